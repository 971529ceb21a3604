import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ISO_DATETIME, createSandboxChannel, expectError, phoneFactory, sleep, unknownId } from '../helpers/e2e-fixtures.js';
import type { Api, ChannelView, Json } from '../helpers/e2e-fixtures.js';
import { apiClient, eventually, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';
import {
  byMessageFrom, checkSignatures, deliveriesOf, deliveryDetail, deliveryIdOf, sayOn, startWebhookReceiver, waitForDeliveries,
  webhookTracker,
} from '../helpers/webhook-receiver.js';
import type { Answer, ReceivedRequest, WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Retries, ordering and the delivery log, end to end: what counts as an acknowledgement,
 * the schedule and its end, Retry-After, 410, per-conversation ordering while an endpoint
 * fails, listing, manual redelivery, recovery, large answers and automatic disabling.
 *
 * Roost runs with a 0.2 s retry schedule (one attempt + 3 retries), no overload floor and
 * a 300 ms request timeout so every failure mode plays out in about a second.
 */

const SCHEDULE = '0.2,0.2,0.2';
const ATTEMPTS = 4;
const ENV = {
  ROOST_WEBHOOK_RETRY_SCHEDULE: SCHEDULE,
  ROOST_WEBHOOK_OVERLOAD_FLOOR_MS: '0',
  ROOST_WEBHOOK_TIMEOUT_MS: '300',
};

const isFinished = (d: Json) => d.status === 'succeeded' || d.status === 'failed';
const gaps = (reqs: ReceivedRequest[]) => reqs.slice(1).map((r, i) => r.receivedAt - reqs[i]!.receivedAt);

describe('webhook delivery: retries, ordering and the delivery log (end to end)', () => {
  let roost: RoostProcess;
  let api: Api;
  let sandbox: ChannelView;
  let receiver: WebhookReceiver;
  let hooks: ReturnType<typeof webhookTracker>;
  const phone = phoneFactory();

  beforeAll(async () => {
    [roost, receiver] = await Promise.all([startRoost({ env: ENV }), startWebhookReceiver()]);
    api = apiClient(roost.url, roost.liveKey!);
    hooks = webhookTracker(api);
    sandbox = await createSandboxChannel(api, { fromNumber: '+15005550006' });
  });

  afterEach(async () => {
    await hooks.removeAll();
    receiver.reset();
  });

  afterAll(async () => {
    await roost?.stop();
    await receiver?.close();
    if (roost) await removeDataDir(roost.dataDir);
  });

  /** Routes the receiver per path; unknown paths get a 200. */
  const routes = new Map<string, (r: ReceivedRequest) => Answer>();
  afterEach(() => routes.clear());
  const route = (path: string, fn: (r: ReceivedRequest) => Answer) => {
    routes.set(path, fn);
    receiver.respondWith((r) => routes.get(r.path)?.(r) ?? { status: 200 });
  };
  const to = (path: string) => (r: ReceivedRequest) => r.path === path;
  /** A message.created webhook at `path`. */
  const hookAt = (path: string, extra: Record<string, unknown> = {}) =>
    hooks.create({ url: receiver.urlFor(path), events: ['message.created'], ...extra });

  describe('what acknowledges', () => {
    const modes: Array<[string, (r: ReceivedRequest) => Answer, (a: Json) => void]> = [
      ['500', () => ({ status: 500, body: 'internal trouble' }), (a) => {
        expect(a).toMatchObject({ statusCode: 500, responseExcerpt: 'internal trouble', error: expect.stringContaining('500') });
      }],
      ['302 (redirect not followed)', () => ({ status: 302, headers: { location: receiver.urlFor('/redirect-target') }, body: '' }), (a) => {
        expect(a).toMatchObject({ statusCode: 302, error: expect.stringContaining('302') });
      }],
      ['404', () => ({ status: 404, body: 'no such hook' }), (a) => {
        expect(a).toMatchObject({ statusCode: 404, responseExcerpt: 'no such hook' });
      }],
      ['timeout', () => ({ status: 200, delayMs: 1000, body: 'too late' }), (a) => {
        expect(a.statusCode).toBeNull();
        expect(a.error).toMatch(/time/i);
        expect(a.durationMs).toBeGreaterThanOrEqual(250);
        expect(a.durationMs).toBeLessThan(900);
      }],
      ['connection reset', () => ({ destroy: true }), (a) => {
        expect(a.statusCode).toBeNull();
        expect(a.error).toBeTypeOf('string');
        expect(a.error.length).toBeGreaterThan(0);
      }],
    ];

    it.each(modes)('%s is retried on schedule, then the delivery is failed with every attempt logged', async (name, answer, checkAttempt) => {
      const path = `/mode-${name.split(' ')[0]}`;
      route(path, answer);
      const hook = await hookAt(path);
      const from = phone();
      await sayOn(sandbox, from, `mode ${name}`);

      const [failed] = await waitForDeliveries(api, hook.id, (ds) => ds.length === 1 && ds[0].status === 'failed', 10_000, 'failed');
      await sleep(600); // no attempt after the last one
      const reqs = receiver.requests.filter(to(path));
      expect(reqs, `attempts seen by the receiver for ${name}`).toHaveLength(ATTEMPTS);
      expect(new Set(reqs.map(deliveryIdOf))).toEqual(new Set([failed.id]));
      for (const g of gaps(reqs)) {
        expect(g).toBeGreaterThanOrEqual(150); // 0.2 s - 20 % jitter
        expect(g).toBeLessThan(2_000);
      }
      expect(receiver.requests.filter(to('/redirect-target'))).toHaveLength(0);

      const listed = await deliveriesOf(api, hook.id, 'failed');
      expect(listed.map((d: Json) => d.id)).toEqual([failed.id]);
      const detail = await deliveryDetail(api, hook.id, failed.id);
      expect(detail).toMatchObject({
        id: failed.id, webhookId: hook.id, event: 'message.created', status: 'failed', attempts: ATTEMPTS,
        nextAttemptDatetime: null, lastError: expect.any(String),
      });
      expect(detail.payload).toEqual(reqs[0]!.json);
      expect(detail.attemptsLog).toHaveLength(ATTEMPTS);
      for (const a of detail.attemptsLog) {
        expect(a).toMatchObject({ attemptedDatetime: expect.stringMatching(ISO_DATETIME), trigger: 'scheduled', durationMs: expect.any(Number) });
        expect(a).toHaveProperty('statusCode');
        expect(a).toHaveProperty('responseExcerpt');
        expect(a).toHaveProperty('error');
        checkAttempt(a);
      }
      const times = detail.attemptsLog.map((a: Json) => Date.parse(a.attemptedDatetime));
      expect([...times].sort((x, y) => x - y)).toEqual(times);
    });

    it('a failing endpoint that then answers 2xx gets the delivery acknowledged (500, 302, 404, then 204)', async () => {
      const path = '/eventually-ok';
      const answers: Answer[] = [
        { status: 500, body: 'x' },
        { status: 302, headers: { location: receiver.urlFor('/redirect-target') } },
        { status: 404, body: 'y' },
        { status: 204 },
      ];
      let n = 0;
      route(path, () => answers[Math.min(n++, answers.length - 1)]!);
      const hook = await hookAt(path);
      await sayOn(sandbox, phone(), 'third time lucky');
      const [d] = await waitForDeliveries(api, hook.id, (ds) => ds.length === 1 && isFinished(ds[0]), 10_000, 'finished');
      expect(d).toMatchObject({ status: 'succeeded', attempts: 4, lastStatusCode: 204, lastError: null, nextAttemptDatetime: null });
      const detail = await deliveryDetail(api, hook.id, d.id);
      expect(detail.attemptsLog.map((a: Json) => a.statusCode)).toEqual([500, 302, 404, 204]);
      expect(detail.attemptsLog.at(-1).error).toBeNull();
      await sleep(400);
      expect(receiver.requests.filter(to(path))).toHaveLength(4);
      expect(receiver.requests.filter(to('/redirect-target'))).toHaveLength(0);
      expect((await deliveriesOf(api, hook.id, 'succeeded')).map((x: Json) => x.id)).toEqual([d.id]);
      expect(await deliveriesOf(api, hook.id, 'failed')).toEqual([]);
    });

    it('Retry-After: 2 on a 429 or a 503 holds the next attempt back by about 2 s', async () => {
      const seen = new Map<string, number>();
      const throttled = (status: number) => (r: ReceivedRequest): Answer => {
        const n = (seen.get(r.path) ?? 0) + 1;
        seen.set(r.path, n);
        return n === 1 ? { status, headers: { 'retry-after': '2' }, body: 'slow down' } : { status: 200 };
      };
      route('/ra-429', throttled(429));
      route('/ra-503', throttled(503));
      const h429 = await hookAt('/ra-429');
      const h503 = await hookAt('/ra-503');
      await sayOn(sandbox, phone(), 'throttle me');
      for (const [path, hook, status] of [['/ra-429', h429, 429], ['/ra-503', h503, 503]] as const) {
        const reqs = await receiver.waitForCount(2, to(path), 8_000);
        const [gap] = gaps(reqs);
        expect(gap, `${path}: wait after Retry-After: 2`).toBeGreaterThanOrEqual(1_900);
        expect(gap).toBeLessThan(4_000);
        const [d] = await waitForDeliveries(api, hook.id, (ds) => ds.length === 1 && isFinished(ds[0]));
        expect(d).toMatchObject({ status: 'succeeded', attempts: 2 });
        const detail = await deliveryDetail(api, hook.id, d.id);
        expect(detail.attemptsLog.map((a: Json) => a.statusCode)).toEqual([status, 200]);
      }
    });

    it('410 Gone disables the webhook (disabledReason gone) and later events are not delivered', async () => {
      const path = '/gone';
      route(path, () => ({ status: 410, body: 'gone for good' }));
      const hook = await hookAt(path);
      await sayOn(sandbox, phone(), 'are you there?');
      const disabled = await eventually(async () => {
        const res = await api('GET', `/v1/webhooks/${hook.id}`);
        return res.json?.status === 'disabled' ? res.json : undefined;
      }, 5_000);
      expect(disabled).toMatchObject({ id: hook.id, status: 'disabled', disabledReason: 'gone' });
      const [d] = await deliveriesOf(api, hook.id);
      expect(d).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 410 });

      route(path, () => ({ status: 200 }));
      await sayOn(sandbox, phone(), 'and now?');
      await sleep(1_000);
      expect(receiver.requests.filter(to(path))).toHaveLength(1);
      expect(await deliveriesOf(api, hook.id)).toHaveLength(1);
      const metrics = await (await fetch(`${roost.url}/metrics`)).text();
      const goneLine = metrics.split('\n').find((l) => l.startsWith('roost_webhooks_auto_disabled_total{reason="gone"}'));
      expect(goneLine).toBe('roost_webhooks_auto_disabled_total{reason="gone"} 1');

      // Enabling it again by hand clears the reason.
      const enabled = await api('PATCH', `/v1/webhooks/${hook.id}`, { status: 'enabled' });
      expect(enabled.json.status).toBe('enabled');
      expect(enabled.json.disabledReason).toBeUndefined();
    });

    it('a disabled webhook keeps its pending deliveries with no next attempt; enabled again, they go out at once', async () => {
      const path = '/paused';
      let n = 0;
      route(path, () => (n++ === 0 ? { status: 503, headers: { 'retry-after': '3600' }, body: 'later' } : { status: 200 }));
      const hook = await hookAt(path);
      await sayOn(sandbox, phone(), 'pause me');
      const [waiting] = await waitForDeliveries(api, hook.id, (ds) => ds.length === 1 && ds[0].lastStatusCode === 503, 5_000, 'retry an hour out');
      expect(waiting).toMatchObject({ status: 'pending', attempts: 1 });
      expect(Date.parse(waiting.nextAttemptDatetime) - Date.now()).toBeGreaterThan(3_000_000);

      expect((await api('PATCH', `/v1/webhooks/${hook.id}`, { status: 'disabled' })).json.status).toBe('disabled');
      const [parked] = await deliveriesOf(api, hook.id);
      expect(parked).toMatchObject({ status: 'pending', attempts: 1, nextAttemptDatetime: null });

      // Enabled again: attempted now, not an hour after the 503.
      expect((await api('PATCH', `/v1/webhooks/${hook.id}`, { status: 'enabled' })).json.status).toBe('enabled');
      const [done] = await waitForDeliveries(api, hook.id, (ds) => ds.length === 1 && isFinished(ds[0]), 3_000, 'resumed at once');
      expect(done).toMatchObject({ status: 'succeeded', attempts: 2, nextAttemptDatetime: null });
      expect(receiver.requests.filter(to(path))).toHaveLength(2);
    });

    it('410 answers to several deliveries in flight at once disable the webhook once (and count once)', async () => {
      const goneCount = async () => {
        const metrics = await (await fetch(`${roost.url}/metrics`)).text();
        const line = metrics.split('\n').find((l) => l.startsWith('roost_webhooks_auto_disabled_total{reason="gone"}'));
        return line ? Number(line.split(' ').at(-1)) : 0;
      };
      const before = await goneCount();
      const path = '/gone-many';
      route(path, () => ({ status: 410, body: 'gone', delayMs: 150 }));
      const hook = await hookAt(path);
      await Promise.all([1, 2, 3, 4].map((i) => sayOn(sandbox, phone(), `gone ${i}`)));
      await waitForDeliveries(api, hook.id, (ds) => ds.length === 4 && ds.every(isFinished), 5_000, 'all finished');
      await sleep(300);
      const res = await api('GET', `/v1/webhooks/${hook.id}`);
      expect(res.json).toMatchObject({ status: 'disabled', disabledReason: 'gone' });
      expect(receiver.requests.filter(to(path)).length).toBeGreaterThanOrEqual(2); // several were in flight together
      expect(await goneCount(), 'one webhook disabled: the counter moves by one').toBe(before + 1);
    });

    it('a 5 MB answer breaks nothing and only a short excerpt is stored', async () => {
      const big = 'x'.repeat(5 * 1024 * 1024);
      let n = 0;
      route('/big', () => (n++ === 0 ? { status: 500, body: big } : { status: 200, body: big }));
      const hook = await hookAt('/big');
      await sayOn(sandbox, phone(), 'large answers');
      const [d] = await waitForDeliveries(api, hook.id, (ds) => ds.length === 1 && isFinished(ds[0]), 10_000, 'finished');
      expect(d).toMatchObject({ status: 'succeeded', attempts: 2 });
      const detail = await deliveryDetail(api, hook.id, d.id);
      expect(detail.attemptsLog).toHaveLength(2);
      for (const a of detail.attemptsLog) {
        expect(a.responseExcerpt).toBeTypeOf('string');
        expect(a.responseExcerpt.length).toBeGreaterThan(0);
        expect(a.responseExcerpt.length).toBeLessThanOrEqual(1024);
      }
      expect((await api('GET', '/v1/webhooks')).status).toBe(200);
      expect((await fetch(`${roost.url}/health`)).status).toBe(200);
    });
  });

  describe('ordering', () => {
    it('keeps commit order per conversation while the endpoint fails, without holding other conversations back', async () => {
      const fromA = phone();
      const fromB = phone();
      let aFailures = 0;
      route('/order-flaky', (r) => {
        if (r.json?.message?.from === fromA && aFailures < 3) {
          aFailures++;
          return { status: 500, body: 'not now' };
        }
        return { status: 200 };
      });
      const flaky = await hookAt('/order-flaky');
      const healthy = await hookAt('/order-healthy');

      for (let i = 1; i <= 5; i++) await sayOn(sandbox, fromA, `A${i}`);
      for (let i = 1; i <= 5; i++) await sayOn(sandbox, fromB, `B${i}`);

      const textOf = (r: ReceivedRequest) => r.json.message.content.text as string;
      await receiver.waitForCount(10, to('/order-healthy'), 5_000);
      const flakyA = await receiver.waitForCount(8, (r) => to('/order-flaky')(r) && byMessageFrom(fromA)(r), 10_000);
      await sleep(300);

      const aArrivals = receiver.requests.filter((r) => to('/order-flaky')(r) && byMessageFrom(fromA)(r));
      expect(aArrivals).toHaveLength(8);
      expect(aArrivals.map(textOf)).toEqual(['A1', 'A1', 'A1', 'A1', 'A2', 'A3', 'A4', 'A5']);
      const ids = [...new Set(aArrivals.map((r) => r.json.message.id as string))];
      expect(ids).toEqual([...ids].sort()); // message ids are time-ordered: arrival order = commit order

      const firstSuccessA = flakyA[3]!.receivedAt;
      const bArrivals = receiver.requests.filter((r) => to('/order-flaky')(r) && byMessageFrom(fromB)(r));
      expect(bArrivals.map(textOf)).toEqual(['B1', 'B2', 'B3', 'B4', 'B5']);
      expect(Math.max(...bArrivals.map((r) => r.receivedAt)), 'B is not held back by A').toBeLessThan(firstSuccessA);

      const healthyReqs = receiver.requests.filter(to('/order-healthy'));
      expect(healthyReqs).toHaveLength(10);
      expect(healthyReqs.filter(byMessageFrom(fromA)).map(textOf)).toEqual(['A1', 'A2', 'A3', 'A4', 'A5']);
      expect(healthyReqs.filter(byMessageFrom(fromB)).map(textOf)).toEqual(['B1', 'B2', 'B3', 'B4', 'B5']);
      expect(Math.max(...healthyReqs.map((r) => r.receivedAt)), 'the healthy webhook is not held back').toBeLessThan(firstSuccessA);

      const flakyLog = await waitForDeliveries(api, flaky.id, (ds) => ds.length === 10 && ds.every(isFinished));
      expect(flakyLog.every((d: Json) => d.status === 'succeeded')).toBe(true);
      const healthyLog = await deliveriesOf(api, healthy.id, 'succeeded');
      expect(healthyLog).toHaveLength(10);
    });

    it('a delivery that fails for good does not block its conversation: the next event follows it', async () => {
      route('/head', (r) => (r.json?.message?.content?.text === 'doomed' ? { status: 500, body: 'never' } : { status: 200 }));
      const hook = await hookAt('/head');
      const from = phone();
      await sayOn(sandbox, from, 'doomed');
      await sayOn(sandbox, from, 'after');
      const log = await waitForDeliveries(api, hook.id, (ds) => ds.length === 2 && ds.every(isFinished), 10_000, 'both finished');
      const [later, earlier] = log; // newest first
      expect(earlier).toMatchObject({ status: 'failed', attempts: ATTEMPTS });
      expect(later).toMatchObject({ status: 'succeeded', attempts: 1 });
      const texts = receiver.requests.filter(to('/head')).map((r) => r.json.message.content.text);
      expect(texts).toEqual([...Array.from({ length: ATTEMPTS }, () => 'doomed'), 'after']);
    });

    it('shows the chain of a failing conversation as one pending delivery and queued ones behind it', async () => {
      let open = false;
      route('/chain', () => (open ? { status: 200 } : { status: 503, headers: { 'retry-after': '2' }, body: 'later' }));
      const hook = await hookAt('/chain');
      const from = phone();
      for (const t of ['c1', 'c2', 'c3']) await sayOn(sandbox, from, t);

      const snapshot = await waitForDeliveries(api, hook.id, (ds) => ds.length === 3 && ds.some((d: Json) => d.attempts > 0), 5_000);
      const byState = (s: string) => snapshot.filter((d: Json) => d.status === s);
      expect(byState('pending')).toHaveLength(1);
      expect(byState('queued')).toHaveLength(2);
      const ordered = [...snapshot].sort((x: Json, y: Json) => (x.id < y.id ? -1 : 1));
      expect(ordered[0].status, 'the oldest delivery is the pending one').toBe('pending');
      expect(ordered[0].attempts).toBe(1);
      expect(ordered[0].nextAttemptDatetime).toMatch(ISO_DATETIME);
      for (const q of ordered.slice(1)) expect(q.attempts).toBe(0);
      const pending = await api('GET', `/v1/webhooks/${hook.id}/deliveries?status=pending`);
      expect(pending.json).toMatchObject({ totalCount: 1, count: 1 });
      const queued = await api('GET', `/v1/webhooks/${hook.id}/deliveries?status=queued`);
      expect(queued.json).toMatchObject({ totalCount: 2, count: 2 });

      open = true;
      await waitForDeliveries(api, hook.id, (ds) => ds.every((d: Json) => d.status === 'succeeded'), 6_000, 'all succeeded');
      const texts = [...new Set(receiver.requests.filter(to('/chain')).map((r) => r.json.message.content.text))];
      expect(texts).toEqual(['c1', 'c2', 'c3']);
    });
  });

  describe('the delivery log and manual control', () => {
    it('lists deliveries newest first with offset/limit and a status filter; refuses a bad filter', async () => {
      route('/listing', (r) => (String(r.json?.message?.content?.text).startsWith('bad') ? { status: 500 } : { status: 200 }));
      const hook = await hookAt('/listing');
      for (const t of ['good 1', 'bad 1', 'good 2', 'bad 2', 'good 3']) await sayOn(sandbox, phone(), t);
      await waitForDeliveries(api, hook.id, (ds) => ds.length === 5 && ds.every(isFinished), 10_000, 'all finished');

      const pages: Json[] = [];
      for (const offset of [0, 2, 4]) {
        const res = await api('GET', `/v1/webhooks/${hook.id}/deliveries?limit=2&offset=${offset}`);
        expect(res.status, res.text).toBe(200);
        expect(res.json).toMatchObject({ offset, limit: 2, totalCount: 5, count: offset === 4 ? 1 : 2 });
        pages.push(...res.json.items);
      }
      const ids = pages.map((d: Json) => d.id);
      expect(new Set(ids).size).toBe(5);
      expect(ids).toEqual([...ids].sort().reverse()); // newest first
      for (const d of pages) {
        expect(d).toMatchObject({
          webhookId: hook.id, event: 'message.created', eventId: expect.stringMatching(/^[0-9a-f]{32}$/),
          conversationId: expect.stringMatching(/^[0-9a-f]{32}$/), createdDatetime: expect.stringMatching(ISO_DATETIME),
        });
      }

      const count = async (status: string) => {
        const res = await api('GET', `/v1/webhooks/${hook.id}/deliveries?status=${status}`);
        expect(res.status, res.text).toBe(200);
        expect(res.json.items.every((d: Json) => d.status === status)).toBe(true);
        return res.json.totalCount as number;
      };
      expect(await count('succeeded')).toBe(3);
      expect(await count('failed')).toBe(2);
      expect(await count('pending')).toBe(0);
      expect(await count('queued')).toBe(0);
      const failedPage = await api('GET', `/v1/webhooks/${hook.id}/deliveries?status=failed&limit=1&offset=1`);
      expect(failedPage.json).toMatchObject({ offset: 1, limit: 1, count: 1, totalCount: 2 });

      expectError(await api('GET', `/v1/webhooks/${hook.id}/deliveries?status=bogus`), 422, 10, 'status');
      expectError(await api('GET', `/v1/webhooks/${hook.id}/deliveries?limit=0`), 422, 10, 'limit');
      expectError(await api('GET', `/v1/webhooks/${unknownId()}/deliveries`), 404, 20);
      expectError(await api('GET', `/v1/webhooks/${hook.id}/deliveries/${unknownId()}`), 404, 20);
    });

    it('redeliver makes one signed attempt now, logged as manual; acknowledged, a failed delivery becomes succeeded', async () => {
      let up = false;
      const path = '/manual?x=1';
      route('/manual', () => (up ? { status: 200, body: 'thanks' } : { status: 500, body: 'down' }));
      const hook = await hooks.create({ url: receiver.urlFor(path), events: ['message.created'] });
      await sayOn(sandbox, phone(), 'manual please');
      const [failed] = await waitForDeliveries(api, hook.id, (ds) => ds.length === 1 && ds[0].status === 'failed', 10_000, 'failed');
      await sleep(300);
      expect(receiver.requests.filter(to('/manual'))).toHaveLength(ATTEMPTS);

      up = true;
      const res = await api('POST', `/v1/webhooks/${hook.id}/deliveries/${failed.id}/redeliver`);
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({ id: failed.id, status: 'succeeded', lastStatusCode: 200 });
      expect(res.json.attemptsLog).toHaveLength(ATTEMPTS + 1);
      expect(res.json.attemptsLog.at(-1)).toMatchObject({ trigger: 'manual', statusCode: 200, responseExcerpt: 'thanks', error: null });
      expect(res.json.attemptsLog.slice(0, ATTEMPTS).every((a: Json) => a.trigger === 'scheduled')).toBe(true);

      const reqs = receiver.requests.filter(to('/manual'));
      expect(reqs, 'the manual attempt reached the receiver before the answer').toHaveLength(ATTEMPTS + 1);
      const manual = reqs.at(-1)!;
      const check = await checkSignatures(manual, receiver.urlFor(path), roost.signingKey!);
      expect(check, check.errors.join('; ')).toMatchObject({ jwt: true, legacy: true, standard: true });
      expect(manual.headers['webhook-id']).toBe(reqs[0]!.headers['webhook-id']);

      expect(await deliveriesOf(api, hook.id, 'failed')).toEqual([]);
      expect((await deliveriesOf(api, hook.id, 'succeeded')).map((d: Json) => d.id)).toEqual([failed.id]);
      await sleep(500);
      expect(receiver.requests.filter(to('/manual'))).toHaveLength(ATTEMPTS + 1);
    });

    it('a failing manual attempt leaves a failed delivery failed and never re-arms the schedule', async () => {
      route('/manual-fail', () => ({ status: 500, body: 'still down' }));
      const hook = await hookAt('/manual-fail');
      await sayOn(sandbox, phone(), 'hopeless');
      const [failed] = await waitForDeliveries(api, hook.id, (ds) => ds.length === 1 && ds[0].status === 'failed', 10_000, 'failed');
      await sleep(300);

      const res = await api('POST', `/v1/webhooks/${hook.id}/deliveries/${failed.id}/redeliver`);
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({ id: failed.id, status: 'failed', nextAttemptDatetime: null });
      expect(res.json.attemptsLog).toHaveLength(ATTEMPTS + 1);
      expect(res.json.attemptsLog.at(-1)).toMatchObject({ trigger: 'manual', statusCode: 500 });

      await sleep(1_200); // several schedule lengths
      expect(receiver.requests.filter(to('/manual-fail'))).toHaveLength(ATTEMPTS + 1);
      const detail = await deliveryDetail(api, hook.id, failed.id);
      expect(detail).toMatchObject({ status: 'failed', nextAttemptDatetime: null });
      expect(detail.attemptsLog).toHaveLength(ATTEMPTS + 1);

      expectError(await api('POST', `/v1/webhooks/${hook.id}/deliveries/${unknownId()}/redeliver`), 404, 20);
      expectError(await api('POST', `/v1/webhooks/${unknownId()}/deliveries/${failed.id}/redeliver`), 404, 20);
    });

    it('an acknowledgement by a manual attempt is not undone by a scheduled attempt that fails after it', async () => {
      let n = 0;
      // Scheduled attempts 1-3 fail at once; the last one (4) fails slowly, and the manual attempt
      // made while it is still in flight is acknowledged.
      route('/race', () => {
        n++;
        if (n < ATTEMPTS) return { status: 500, body: 'no' };
        if (n === ATTEMPTS) return { status: 500, body: 'slow no', delayMs: 250 };
        return { status: 200, body: 'yes' };
      });
      const hook = await hookAt('/race');
      await sayOn(sandbox, phone(), 'race');
      await receiver.waitForCount(ATTEMPTS, to('/race'), 5_000);
      const [d] = await deliveriesOf(api, hook.id);
      const manual = await api('POST', `/v1/webhooks/${hook.id}/deliveries/${d.id}/redeliver`);
      expect(manual.status, manual.text).toBe(200);
      expect(manual.json).toMatchObject({ status: 'succeeded' });
      expect(manual.json.attemptsLog.at(-1)).toMatchObject({ trigger: 'manual', statusCode: 200 });

      await sleep(600); // the slow scheduled attempt has been recorded by now
      const detail = await deliveryDetail(api, hook.id, d.id);
      expect(detail.attemptsLog.map((a: Json) => `${a.trigger}:${a.statusCode}`).sort()).toEqual(
        ['manual:200', 'scheduled:500', 'scheduled:500', 'scheduled:500', 'scheduled:500'],
      );
      expect(detail.status, 'the endpoint acknowledged this delivery').toBe('succeeded');
    });

    it('recover {since} resends every failed delivery created since then (202 {recovered}); bad since → 422', async () => {
      let up = false;
      route('/recover', () => (up ? { status: 200 } : { status: 500 }));
      const hook = await hookAt('/recover');
      const oldFrom = phone();
      await sayOn(sandbox, oldFrom, 'old failure');
      await waitForDeliveries(api, hook.id, (ds) => ds.length === 1 && ds[0].status === 'failed', 10_000, 'old failed');
      await sleep(20);
      const since = new Date().toISOString();
      await sleep(20);
      const fresh = [phone(), phone(), phone()];
      for (const f of fresh) await sayOn(sandbox, f, 'new failure');
      await waitForDeliveries(api, hook.id, (ds) => ds.length === 4 && ds.every((d: Json) => d.status === 'failed'), 10_000, 'all failed');

      for (const bad of ['yesterday', '2026-13-45T99:00:00Z', 12345, '1717171717']) {
        expectError(await api('POST', `/v1/webhooks/${hook.id}/recover`, { since: bad }), 422, 10, 'since');
      }
      // Missing is code 9, as for every required parameter.
      expectError(await api('POST', `/v1/webhooks/${hook.id}/recover`, {}), 422, 9, 'since');
      expectError(await api('POST', `/v1/webhooks/${unknownId()}/recover`, { since }), 404, 20);

      const future = await api('POST', `/v1/webhooks/${hook.id}/recover`, { since: new Date(Date.now() + 3_600_000).toISOString() });
      expect(future.status, future.text).toBe(202);
      expect(future.json).toEqual({ recovered: 0 });

      up = true;
      const before = receiver.requests.filter(to('/recover')).length;
      const res = await api('POST', `/v1/webhooks/${hook.id}/recover`, { since });
      expect(res.status, res.text).toBe(202);
      expect(res.json).toEqual({ recovered: 3 });

      const log = await waitForDeliveries(api, hook.id, (ds) => ds.filter((d: Json) => d.status === 'succeeded').length === 3, 5_000, 'recovered');
      await sleep(300);
      const resent = receiver.requests.filter(to('/recover')).slice(before);
      expect(resent.map((r) => r.json.message.from).sort()).toEqual([...fresh].sort());
      const old = log.find((d: Json) => d.status !== 'succeeded');
      expect(old).toMatchObject({ status: 'failed' });
      const oldDetail = await deliveryDetail(api, hook.id, old.id);
      expect(oldDetail.payload.message.from).toBe(oldFrom);
      for (const d of log.filter((x: Json) => x.status === 'succeeded')) {
        const detail = await deliveryDetail(api, hook.id, d.id);
        expect(detail.attemptsLog).toHaveLength(ATTEMPTS + 1);
        expect(detail.attemptsLog.at(-1)).toMatchObject({ trigger: 'scheduled', statusCode: 200 });
      }
    });
  });

  describe('automatic disabling (ROOST_WEBHOOK_DISABLE_AFTER_SECONDS=2)', () => {
    let lone: RoostProcess;
    let loneApi: Api;
    let failing: WebhookReceiver;
    let flaky: WebhookReceiver;
    beforeAll(async () => {
      [lone, failing, flaky] = await Promise.all([
        startRoost({
          env: {
            ROOST_WEBHOOK_RETRY_SCHEDULE: Array.from({ length: 40 }, () => '0.25').join(','),
            ROOST_WEBHOOK_OVERLOAD_FLOOR_MS: '0',
            ROOST_WEBHOOK_DISABLE_AFTER_SECONDS: '2',
          },
        }),
        startWebhookReceiver(),
        startWebhookReceiver(),
      ]);
      loneApi = apiClient(lone.url, lone.liveKey!);
      failing.respond(500, {}, 'always failing');
      failing.delay(300); // slow failures: attempts of several conversations overlap, as they do in production
      // Every other request fails: never two seconds of nothing but failures.
      flaky.respondWith((r) => (r.seq % 2 === 0 ? { status: 500, body: 'flaky' } : { status: 200 }));
    });
    afterAll(async () => {
      await lone?.stop();
      await failing?.close();
      await flaky?.close();
      if (lone) await removeDataDir(lone.dataDir);
    });

    it('disables a webhook that has only failed for that long (disabledReason failing), not one that also succeeds', async () => {
      const channel = await createSandboxChannel(loneApi);
      const created = await loneApi('POST', '/v1/webhooks', { url: failing.urlFor('/always-500'), events: ['message.created'] });
      expect(created.status, created.text).toBe(201);
      const flakyHook = await loneApi('POST', '/v1/webhooks', { url: flaky.urlFor('/flaky'), events: ['message.created'] });
      expect(flakyHook.status, flakyHook.text).toBe(201);
      const start = Date.now();
      // Steady traffic for both webhooks while the window runs out.
      let sending = true;
      const traffic = (async () => {
        while (sending) {
          await sayOn(channel, phone(), 'nobody home');
          await sleep(250);
        }
      })();

      try {
        const disabled = await eventually(async () => {
          const res = await loneApi('GET', `/v1/webhooks/${created.json.id}`);
          return res.json?.status === 'disabled' ? res.json : undefined;
        }, 8_000, 50);
        expect(disabled).toMatchObject({ status: 'disabled', disabledReason: 'failing' });
        const firstAttempt = failing.requests[0]!.receivedAt;
        expect(Date.now() - firstAttempt).toBeGreaterThanOrEqual(1_900);
        expect(Date.now() - start).toBeLessThan(8_000);
        expect(failing.requests.length).toBeGreaterThanOrEqual(3);

        const seen = failing.requests.length;
        await sleep(800);
        expect(failing.requests.length, 'no attempts once disabled').toBeLessThanOrEqual(seen + 1);
        const settled = failing.requests.length;
        await sleep(600);
        expect(failing.requests.length).toBe(settled);
      } finally {
        sending = false;
        await traffic;
      }

      expect(Date.now() - flaky.requests[0]!.receivedAt).toBeGreaterThan(2_500);
      expect(flaky.requests.filter((r) => r.answer && 'status' in r.answer && r.answer.status === 500).length).toBeGreaterThan(3);
      const flakyNow = await loneApi('GET', `/v1/webhooks/${flakyHook.json.id}`);
      expect(flakyNow.json).toMatchObject({ status: 'enabled' });
      expect(flakyNow.json.disabledReason).toBeUndefined();

      // One webhook was disabled, once: the counter counts webhooks, not the attempts that were in flight meanwhile.
      const metrics = await (await fetch(`${lone.url}/metrics`)).text();
      const line = metrics.split('\n').find((l) => l.startsWith('roost_webhooks_auto_disabled_total{reason="failing"}'));
      expect(line).toBe('roost_webhooks_auto_disabled_total{reason="failing"} 1');
    });
  });
});
