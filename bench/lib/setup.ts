import { fork, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createTestDatabase } from '../../test/helpers/postgres.js';
import { apiClient, removeDataDir, startRoost } from '../../test/helpers/roost-process.js';
import type { RoostProcess } from '../../test/helpers/roost-process.js';

export { sendbluePayload } from './payloads.js';

export type Engine = 'sqlite' | 'postgres';
export const LIVE_KEY = 'live_bench_key_0123456789abcdefgh';
export const SB_SECRET = 'bench-sendblue-signing-secret';

export interface BenchRoost {
  roost: RoostProcess;
  api: ReturnType<typeof apiClient>;
  readyMs: number;
  close(): Promise<void>;
}

/** Starts a real `roost serve` on the chosen engine (a throwaway database each time). */
export async function launchRoost(engine: Engine, extraEnv: Record<string, string> = {}, databaseUrl?: string): Promise<BenchRoost> {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let url = databaseUrl;
  if (!url && engine === 'postgres') {
    db = await createTestDatabase('roost_bench');
    url = db.url;
  }
  const t0 = performance.now();
  const roost = await startRoost({
    env: {
      ROOST_ACCESS_KEY: LIVE_KEY,
      ROOST_LOG_LEVEL: 'error',
      ROOST_POLL_INTERVAL_MS: '200',
      ROOST_DATABASE_POOL_SIZE: '16',
      ...(url ? { ROOST_DATABASE_URL: url } : {}),
      ...extraEnv,
    },
    timeoutMs: 60_000,
    // e.g. ROOST_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=bench/results/prof" to profile Roost under load.
    nodeArgs: process.env.ROOST_BENCH_NODE_ARGS?.split(' ').filter(Boolean),
  });
  const readyMs = performance.now() - t0;
  return {
    roost,
    api: apiClient(roost.url, LIVE_KEY),
    readyMs,
    async close() {
      await roost.stop();
      await removeDataDir(roost.dataDir);
      await db?.drop();
    },
  };
}

export async function sendblueChannel(api: BenchRoost['api']): Promise<string> {
  const res = await api('POST', '/v1/channels', {
    platformId: 'sendblue',
    name: 'bench',
    settings: { apiKeyId: 'k', apiSecretKey: 's', fromNumber: '+15122164639', signingSecret: SB_SECRET, baseUrl: 'http://127.0.0.1:9' },
  });
  if (res.status !== 201) throw new Error(`channel: ${res.status} ${res.text}`);
  return res.json.id as string;
}

/** The bare node:http ceiling, in its own process like Roost. */
export async function launchBaseline(): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, [resolve(import.meta.dirname, 'baseline-server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((res) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) res(Number(m[1]));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => {
      child.once('exit', () => r());
      child.kill('SIGTERM');
    }),
  };
}

/**
 * A webhook receiver in its own process (bench/lib/receiver-server.mjs): `onEvent` gets each
 * event's content text and its arrival time in epoch ms (performance.timeOrigin + now());
 * `cpuMicros()` the CPU the receiver has used so far.
 */
export async function launchReceiver(onEvent: (text: string, at: number) => void): Promise<{ url: string; cpuMicros(): Promise<number>; close(): Promise<void> }> {
  const child = fork(resolve(import.meta.dirname, 'receiver-server.mjs'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let cpuAsked: ((micros: number) => void) | undefined;
  const port = await new Promise<number>((res) => {
    child.on('message', (m: unknown) => {
      if (Array.isArray(m)) for (const [text, at] of m as Array<[string, number]>) onEvent(text, at);
      else if (typeof m === 'object' && m !== null && 'cpuMicros' in m) cpuAsked?.((m as { cpuMicros: number }).cpuMicros);
      else res((m as { port: number }).port);
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    cpuMicros: () => new Promise((r) => {
      cpuAsked = r;
      child.send('cpu');
    }),
    close: () => new Promise<void>((r) => {
      child.once('exit', () => r());
      child.kill('SIGTERM');
    }),
  };
}
