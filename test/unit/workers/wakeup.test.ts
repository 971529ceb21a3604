import { describe, expect, it } from 'vitest';
import { InFlight, Wakeup } from '../../../src/workers/wakeup.js';

describe('Wakeup', () => {
  it('ends a sleep early when woken, and otherwise after the time given', async () => {
    const w = new Wakeup();
    const t0 = performance.now();
    const long = w.sleep(5_000);
    setTimeout(() => w.wake(), 20);
    await long;
    expect(performance.now() - t0).toBeLessThan(1_000);
    const t1 = performance.now();
    await w.sleep(30);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(25);
  });

  it('ignores a wake with nobody asleep (it does not cut the next sleep short)', async () => {
    const w = new Wakeup();
    w.wake();
    const t0 = performance.now();
    await w.sleep(30);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });
});

describe('InFlight', () => {
  it('counts tracked work, runs onSettled, and releases idle waiters only when all of it settled', async () => {
    const f = new InFlight();
    let settled = 0;
    let release1!: () => void;
    let release2!: () => void;
    f.track(new Promise<void>((r) => (release1 = r)), () => settled++);
    f.track(new Promise<void>((_, rej) => (release2 = () => rej(new Error('x')))).catch(() => undefined), () => settled++);
    expect(f.count).toBe(2);
    let idle = false;
    const waiting = f.idle().then(() => (idle = true));
    release1();
    await new Promise((r) => setTimeout(r, 5));
    expect([f.count, settled, idle]).toEqual([1, 1, false]);
    release2();
    await waiting;
    expect([f.count, settled, idle]).toEqual([0, 2, true]);
    await expect(f.idle()).resolves.toBeUndefined();
  });
});
