import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';

describe('roost serve (smoke)', () => {
  let roost: RoostProcess;
  beforeAll(async () => {
    roost = await startRoost();
  });
  afterAll(async () => {
    await roost.stop();
    await removeDataDir(roost.dataDir);
  });

  it('prints a live key, a test key and a signing key on first start', () => {
    expect(roost.liveKey).toMatch(/^live_[A-Za-z0-9]{32}$/);
    expect(roost.testKey).toMatch(/^test_[A-Za-z0-9]{32}$/);
    expect(roost.signingKey).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('answers health and refuses an API call without a key', async () => {
    expect((await fetch(`${roost.url}/health`)).status).toBe(200);
    const res = await apiClient(roost.url, 'wrong-key')('GET', '/v1/conversations');
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ errors: [{ code: 2, description: expect.any(String), parameter: 'access_key' }] });
  });

  it('exits 0 on SIGTERM', async () => {
    const other = await startRoost();
    expect(await other.stop()).toBe(0);
    await removeDataDir(other.dataDir);
  });
});
