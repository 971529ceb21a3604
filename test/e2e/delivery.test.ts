import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ISO_DATETIME, conversationsOf, countRows, createSandboxChannel, createWorkspace, eventsOfConversation, expectError, phoneFactory,
  sleep, waitForStatus,
} from '../helpers/e2e-fixtures.js';
import type { Api, ChannelView, Json } from '../helpers/e2e-fixtures.js';
import { apiClient, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';
import {
  byConversation, checkSignatures, deliveriesOf, deliveryIdOf, headerOf, jwtClaimsOf, sayOn, startWebhookReceiver,
  webhookIdOf, webhookTracker,
} from '../helpers/webhook-receiver.js';
import type { ReceivedRequest, WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Webhook delivery, end to end against the real `roost serve` and a real HTTP receiver:
 * payload shapes (seed 000), routing (channel, generic, event types, workspaces, disabled,
 * deleted), the three signature schemes on every attempt, signing-key regeneration and
 * the egress guard on webhook URLs.
 */

const SANDBOX_NUMBER = '+15005550006';
const ALL_EVENTS = ['conversation.created', 'conversation.updated', 'message.created', 'message.updated'];
const ENV = { ROOST_WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.2', ROOST_WEBHOOK_OVERLOAD_FLOOR_MS: '0' };

const sha256hex = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const sortedKeys = (o: object) => Object.keys(o).sort();

describe('webhook delivery (end to end)', () => {
  let roost: RoostProcess;
  let api: Api;
  let sandboxA: ChannelView;
  let sandboxB: ChannelView;
  let receiver: WebhookReceiver;
  let hooks: ReturnType<typeof webhookTracker>;
  /** The workspace's current signing key (the regeneration test changes it). */
  let signingKey: string;
  const phone = phoneFactory();

  beforeAll(async () => {
    [roost, receiver] = await Promise.all([startRoost({ env: ENV }), startWebhookReceiver()]);
    api = apiClient(roost.url, roost.liveKey!);
    signingKey = roost.signingKey!;
    hooks = webhookTracker(api);
    sandboxA = await createSandboxChannel(api, { fromNumber: SANDBOX_NUMBER }, 'sandbox-a');
    sandboxB = await createSandboxChannel(api, { fromNumber: '+15005550007' }, 'sandbox-b');
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

  const conversationOf = async (from: string): Promise<Json> => {
    const convs = await conversationsOf(api, from);
    expect(convs, `one conversation for ${from}`).toHaveLength(1);
    return convs[0];
  };
  const onPath = (path: string, ...filters: Array<(r: ReceivedRequest) => boolean>) => (r: ReceivedRequest) =>
    r.path === path && filters.every((f) => f(r));

  describe('payloads', () => {
    it('posts {type, conversation, message} and {type, conversation} bodies shaped like seed 000, in commit order', async () => {
      const path = '/payloads';
      await hooks.create({ url: receiver.urlFor(path), events: ALL_EVENTS });
      const from = phone();
      const text = 'Testing webhook functionality.';
      await sayOn(sandboxA, from, text);
      const conv = await conversationOf(from);

      const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'Thanks!' } });
      expect(reply.status, reply.text).toBe(201);
      await waitForStatus(api, reply.json.id, 'delivered');
      const archived = await api('PATCH', `/v1/conversations/${conv.id}`, { status: 'archived' });
      expect(archived.status, archived.text).toBe(200);

      const mine = onPath(path, byConversation(conv.id));
      const reqs = await receiver.waitFor((rs) => {
        const m = rs.filter(mine);
        return m.some((r) => r.json?.type === 'conversation.updated') ? m : undefined;
      }, 10_000, 'conversation.updated to arrive');
      await sleep(200); // nothing else may follow
      const all = receiver.requests.filter(mine);
      expect(all).toHaveLength(reqs.length);

      // Commit order per webhook and conversation.
      expect(all.map((r) => r.json.type)).toEqual([
        'conversation.created', 'message.created', 'message.created', 'message.updated', 'message.updated', 'conversation.updated',
      ]);
      // Byte for byte the events Roost committed, in the same order.
      expect(all.map((r) => r.text)).toEqual((await eventsOfConversation(roost, conv.id)).map((e) => e.payload));

      for (const r of all) {
        expect(r.method).toBe('POST');
        expect(headerOf(r, 'content-type')).toMatch(/^application\/json/);
        expect(r.url).toBe(path);
      }
      const [created, inbound, outbound, sent, delivered, updated] = all.map((r) => r.json);

      // conversation.created: {type, conversation} only, the short conversation form.
      expect(sortedKeys(created)).toEqual(['conversation', 'type']);
      expect(sortedKeys(created.conversation)).toEqual(
        ['contactId', 'createdDatetime', 'id', 'lastReceivedDatetime', 'status', 'updatedDatetime'],
      );
      expect(created.conversation).toMatchObject({ id: conv.id, contactId: conv.contactId, status: 'active' });
      for (const k of ['createdDatetime', 'updatedDatetime', 'lastReceivedDatetime']) expect(created.conversation[k]).toMatch(ISO_DATETIME);

      // message.created for the inbound message: seed 000's example, field for field.
      expect(sortedKeys(inbound)).toEqual(['conversation', 'message', 'type']);
      expect(sortedKeys(inbound.conversation)).toEqual(
        ['contactId', 'createdDatetime', 'id', 'lastReceivedDatetime', 'status', 'updatedDatetime'],
      );
      expect(inbound.message).toMatchObject({
        conversationId: conv.id,
        channelId: sandboxA.id,
        platform: 'sandbox',
        to: SANDBOX_NUMBER,
        from,
        direction: 'received',
        status: 'received',
        type: 'text',
        content: { text },
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        createdDatetime: expect.stringMatching(ISO_DATETIME),
        updatedDatetime: expect.stringMatching(ISO_DATETIME),
      });
      for (const k of ['id', 'conversationId', 'channelId', 'platform', 'to', 'from', 'direction', 'status', 'type', 'content',
        'createdDatetime', 'updatedDatetime']) {
        expect(inbound.message, `message.${k}`).toHaveProperty(k);
      }
      expect(inbound.conversation.lastReceivedDatetime).toBe(inbound.message.createdDatetime);
      const stored = await api('GET', `/v1/messages/${inbound.message.id}`);
      expect(stored.status).toBe(200);
      expect(inbound.message).toEqual(stored.json);

      // The reply: message.created (accepted), then message.updated sent → delivered.
      expect(outbound.message).toMatchObject({
        id: reply.json.id, conversationId: conv.id, channelId: sandboxA.id, platform: 'sandbox', direction: 'sent',
        status: 'accepted', from: SANDBOX_NUMBER, to: from, type: 'text', content: { text: 'Thanks!' },
      });
      for (const [body, status] of [[sent, 'sent'], [delivered, 'delivered']] as const) {
        expect(sortedKeys(body)).toEqual(['conversation', 'message', 'type']);
        expect(body.message).toMatchObject({ id: reply.json.id, conversationId: conv.id, direction: 'sent', status });
        expect(Date.parse(body.message.updatedDatetime)).toBeGreaterThanOrEqual(Date.parse(body.message.createdDatetime));
      }

      // conversation.updated after PATCH status archived.
      expect(sortedKeys(updated)).toEqual(['conversation', 'type']);
      expect(updated.conversation).toMatchObject({ id: conv.id, contactId: conv.contactId, status: 'archived' });
      expect(Date.parse(updated.conversation.updatedDatetime)).toBeGreaterThanOrEqual(Date.parse(created.conversation.updatedDatetime));
    });
  });

  describe('routing', () => {
    it('a channel-specific webhook gets only its channel; a generic one gets every channel; only subscribed types', async () => {
      const chA = await hooks.create({ url: receiver.urlFor('/route-a'), channelId: sandboxA.id, events: ['conversation.created', 'message.created'] });
      expect(chA).toMatchObject({ channelId: sandboxA.id, status: 'enabled' });
      await hooks.create({ url: receiver.urlFor('/route-generic'), events: ['conversation.created', 'message.created'] });
      await hooks.create({ url: receiver.urlFor('/route-updated'), events: ['conversation.updated'] });

      const fromA = phone();
      const fromB = phone();
      await sayOn(sandboxA, fromA, 'on channel A');
      await sayOn(sandboxB, fromB, 'on channel B');
      const convA = await conversationOf(fromA);
      const convB = await conversationOf(fromB);
      const patched = await api('PATCH', `/v1/conversations/${convB.id}`, { status: 'archived' });
      expect(patched.status, patched.text).toBe(200);

      const ours = (r: ReceivedRequest) => [convA.id, convB.id].includes(r.json?.conversation?.id);
      await receiver.waitForCount(4, onPath('/route-generic', ours));
      await receiver.waitForCount(1, onPath('/route-updated', ours));
      await receiver.waitForCount(2, onPath('/route-a', ours));
      await sleep(400);

      const summary = (path: string) =>
        receiver.requests.filter(onPath(path, ours)).map((r) => `${r.json.type}@${r.json.conversation.id === convA.id ? 'A' : 'B'}`).sort();
      expect(summary('/route-a')).toEqual(['conversation.created@A', 'message.created@A']);
      expect(summary('/route-generic')).toEqual(['conversation.created@A', 'conversation.created@B', 'message.created@A', 'message.created@B']);
      expect(summary('/route-updated')).toEqual(['conversation.updated@B']);
      for (const r of receiver.requests.filter(onPath('/route-a'))) {
        if (r.json.message) expect(r.json.message.channelId).toBe(sandboxA.id);
      }
    });

    it("another workspace's webhooks get nothing of this workspace (and vice versa)", async () => {
      const other = await createWorkspace(roost, 'other');
      const otherApi = apiClient(roost.url, other.liveKey);
      const otherChannel = await createSandboxChannel(otherApi, {}, 'other-sandbox');
      const theirHook = await otherApi('POST', '/v1/webhooks', { url: receiver.urlFor('/other-ws'), events: ALL_EVENTS });
      expect(theirHook.status, theirHook.text).toBe(201);
      const ourHook = await hooks.create({ url: receiver.urlFor('/this-ws'), events: ALL_EVENTS });

      try {
        const mine = phone();
        const theirs = phone();
        await sayOn(sandboxA, mine, 'for this workspace');
        await sayOn(otherChannel, theirs, 'for the other workspace');

        await receiver.waitForCount(1, onPath('/other-ws', (r) => r.json?.type === 'message.created'));
        await receiver.waitForCount(1, onPath('/this-ws', (r) => r.json?.message?.from === mine));
        await sleep(400);

        const theirReqs = receiver.requestsTo('/other-ws');
        expect(theirReqs.map((r) => r.json.type).sort()).toEqual(['conversation.created', 'message.created']);
        const theirMsg = theirReqs.find((r) => r.json.type === 'message.created')!;
        expect(theirMsg.json.message).toMatchObject({ from: theirs, channelId: otherChannel.id });
        // Signed with the other workspace's key, not ours.
        const withTheirs = await checkSignatures(theirMsg, receiver.urlFor('/other-ws'), other.signingKey);
        expect(withTheirs, withTheirs.errors.join('; ')).toMatchObject({ jwt: true, legacy: true, standard: true });
        expect(await checkSignatures(theirMsg, receiver.urlFor('/other-ws'), signingKey)).toMatchObject({ jwt: false, legacy: false, standard: false });

        const ourTexts = receiver.requestsTo('/this-ws').map((r) => r.json.message?.from).filter(Boolean);
        expect(ourTexts).not.toContain(theirs);
        expect(ourTexts).toContain(mine);

        // Our delivery log and controls are invisible to the other workspace.
        const [ourDelivery] = await deliveriesOf(api, ourHook.id);
        const seen = receiver.requestsTo('/this-ws').length;
        expectError(await otherApi('GET', `/v1/webhooks/${ourHook.id}/deliveries`), 404, 20);
        expectError(await otherApi('GET', `/v1/webhooks/${ourHook.id}/deliveries/${ourDelivery.id}`), 404, 20);
        expectError(await otherApi('POST', `/v1/webhooks/${ourHook.id}/deliveries/${ourDelivery.id}/redeliver`), 404, 20);
        expectError(await otherApi('POST', `/v1/webhooks/${ourHook.id}/recover`, { since: '2020-01-01T00:00:00Z' }), 404, 20);
        expect(receiver.requestsTo('/this-ws')).toHaveLength(seen);
      } finally {
        expect((await otherApi('DELETE', `/v1/webhooks/${theirHook.json.id}`)).status).toBe(204);
      }
    });

    it('a disabled webhook gets nothing, and gets new events again once re-enabled', async () => {
      const path = '/toggle';
      const hook = await hooks.create({ url: receiver.urlFor(path), events: ['message.created'] });
      const disabled = await api('PATCH', `/v1/webhooks/${hook.id}`, { status: 'disabled' });
      expect(disabled.status, disabled.text).toBe(200);
      expect(disabled.json.status).toBe('disabled');
      expect(disabled.json.disabledReason).toBeUndefined(); // disabled by hand, not by Roost

      const whileOff = phone();
      await sayOn(sandboxA, whileOff, 'while disabled');
      await sleep(700);
      expect(receiver.requestsTo(path)).toHaveLength(0);

      const enabled = await api('PATCH', `/v1/webhooks/${hook.id}`, { status: 'enabled' });
      expect(enabled.status, enabled.text).toBe(200);
      expect(enabled.json.status).toBe('enabled');
      const afterOn = phone();
      await sayOn(sandboxA, afterOn, 'after enabling');
      await receiver.waitForCount(1, onPath(path));
      await sleep(500);
      const got = receiver.requestsTo(path);
      expect(got.map((r) => r.json.message.content.text)).toEqual(['after enabling']);
      expect(got[0]!.json.message.from).toBe(afterOn);
    });

    it('deleting a webhook drops its pending deliveries: nothing arrives after the receiver recovers', async () => {
      const path = '/doomed';
      receiver.respondWith((r) => (r.path === path ? { status: 500, body: 'down' } : { status: 200 }));
      const hook = await hooks.create({ url: receiver.urlFor(path), events: ['message.created'] });
      await sayOn(sandboxA, phone(), 'never delivered');
      await receiver.waitForCount(1, onPath(path));
      const before = await deliveriesOf(api, hook.id);
      expect(before).toHaveLength(1);
      expect(before[0].status).toBe('pending');

      const del = await api('DELETE', `/v1/webhooks/${hook.id}`);
      expect(del.status, del.text).toBe(204);
      const deletedAt = Date.now();
      hooks.forget(hook.id);
      receiver.reset();

      await sleep(1500); // longer than the whole retry schedule
      expect(receiver.requestsTo(path).filter((r) => r.receivedAt > deletedAt)).toHaveLength(0);
      expect(receiver.requestsTo(path).every((r) => r.answer && 'status' in r.answer && r.answer.status === 500)).toBe(true);
      expectError(await api('GET', `/v1/webhooks/${hook.id}/deliveries`), 404, 20);
      expectError(await api('GET', `/v1/webhooks/${hook.id}/deliveries/${before[0].id}`), 404, 20);
      const left = {
        deliveries: await countRows(roost, 'deliveries', 'webhook_id', hook.id),
        attempts: await countRows(roost, 'delivery_attempts', 'webhook_id', hook.id),
      };
      expect(left).toEqual({ deliveries: 0, attempts: 0 });
    });
  });

  describe('changes while a delivery is under way', () => {
    it('deleting a webhook while an attempt is in flight leaves no delivery or attempt of it behind', async () => {
      const path = '/inflight';
      receiver.respondWith((r) => (r.path === path ? { status: 500, delayMs: 800, body: 'slow failure' } : { status: 200 }));
      const hook = await hooks.create({ url: receiver.urlFor(path), events: ['message.created'] });
      await sayOn(sandboxA, phone(), 'in flight');
      await receiver.waitForCount(1, onPath(path));
      const del = await api('DELETE', `/v1/webhooks/${hook.id}`);
      expect(del.status, del.text).toBe(204);
      hooks.forget(hook.id);

      await sleep(1_500); // the attempt ends (500) while the webhook is gone
      expect(receiver.requestsTo(path)).toHaveLength(1);
      const left = {
        deliveries: await countRows(roost, 'deliveries', 'webhook_id', hook.id),
        attempts: await countRows(roost, 'delivery_attempts', 'webhook_id', hook.id),
      };
      expect(left, 'the log of a deleted webhook goes with it').toEqual({ deliveries: 0, attempts: 0 });
    });

    it('a URL changed between attempts: the next attempt goes to the new URL, signed for it', async () => {
      receiver.respondWith((r) => (r.path === '/moving-old' ? { status: 500, body: 'moved' } : { status: 200 }));
      const oldUrl = receiver.urlFor('/moving-old');
      const newUrl = receiver.urlFor('/moving-new?v=2');
      const hook = await hooks.create({ url: oldUrl, events: ['message.created'] });
      await sayOn(sandboxA, phone(), 'moving');
      await receiver.waitForCount(1, onPath('/moving-old'));
      const patched = await api('PATCH', `/v1/webhooks/${hook.id}`, { url: newUrl });
      expect(patched.status, patched.text).toBe(200);

      const [arrived] = await receiver.waitForCount(1, onPath('/moving-new'), 5_000);
      const check = await checkSignatures(arrived!, newUrl, signingKey);
      expect(check, check.errors.join('; ')).toMatchObject({ jwt: true, legacy: true, standard: true });
      const [d] = await deliveriesOf(api, hook.id);
      const detail = await (await api('GET', `/v1/webhooks/${hook.id}/deliveries/${d.id}`)).json;
      expect(detail.status).toBe('succeeded');
      expect(detail.attemptsLog[0].url).toBe(oldUrl);
      expect(detail.attemptsLog.at(-1)).toMatchObject({ url: newUrl, statusCode: 200 });
    });
  });

  describe('signatures', () => {
    it('signs every attempt three ways; webhook-id is stable across retries while timestamp and jti are fresh', async () => {
      const path = '/signed';
      // Query string with ordering and escapes that a canonicalising signer would get wrong.
      const url = receiver.urlFor(`${path}?b=2&a=1&text=hello%20world&plus=a%2Bb`);
      const tries = new Map<string, number>();
      // Two 503s with Retry-After: 1 per delivery, then 200: three attempts in three different seconds.
      receiver.respondWith((r) => {
        if (r.path !== path) return { status: 200 };
        const n = (tries.get(deliveryIdOf(r)) ?? 0) + 1;
        tries.set(deliveryIdOf(r), n);
        return n <= 2 ? { status: 503, headers: { 'retry-after': '1' }, body: 'busy' } : { status: 200, body: 'ok' };
      });
      const hook = await hooks.create({ url, events: ['conversation.created', 'message.created'] });
      expect(hook.url).toBe(url);
      await sayOn(sandboxA, phone(), 'sign me');

      const reqs = await receiver.waitForCount(6, onPath(path), 15_000);
      expect(reqs).toHaveLength(6);
      expect(reqs.every((r) => r.url === url.slice(receiver.url.length))).toBe(true);

      for (const r of reqs) {
        const check = await checkSignatures(r, url, signingKey);
        expect(check, `attempt ${r.seq}: ${check.errors.join('; ')}`).toMatchObject({ jwt: true, legacy: true, legacySdk: true, standard: true });
        const claims = jwtClaimsOf(r);
        expect(claims).toMatchObject({
          iss: 'MessageBird',
          url_hash: sha256hex(url),
          payload_hash: sha256hex(r.body),
          jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
        });
        expect(claims.exp).toBe((claims.nbf as number) + 60);
        expect(String(claims.nbf)).toBe(headerOf(r, 'webhook-timestamp'));
        expect(headerOf(r, 'messagebird-request-timestamp')).toBe(headerOf(r, 'webhook-timestamp'));
        expect(Math.abs(Number(headerOf(r, 'webhook-timestamp')) - r.receivedAt / 1000)).toBeLessThan(3);
      }
      // Sanity of the verifiers: the URL without its query, or a changed body, must not verify.
      const bare = await checkSignatures(reqs[0]!, receiver.urlFor(path), signingKey);
      expect(bare.jwt).toBe(false);
      expect(bare.legacy).toBe(false);
      const tampered = { ...reqs[0]!, body: Buffer.from(reqs[0]!.text.replace('"status":"active"', '"status":"archived"')) };
      expect(tampered.body.equals(reqs[0]!.body)).toBe(false);
      expect(await checkSignatures(tampered, url, signingKey)).toMatchObject({ jwt: false, legacy: false, legacySdk: false, standard: false });

      const groups = new Map<string, ReceivedRequest[]>();
      for (const r of reqs) groups.set(deliveryIdOf(r), [...(groups.get(deliveryIdOf(r)) ?? []), r]);
      expect(groups.size).toBe(2);
      const deliveries = await deliveriesOf(api, hook.id);
      for (const [deliveryId, attempts] of groups) {
        expect(attempts).toHaveLength(3);
        const ids = new Set(attempts.map(webhookIdOf));
        expect(ids.size, 'webhook-id is the same on every attempt').toBe(1);
        const delivery = deliveries.find((d: Json) => d.id === deliveryId);
        expect(delivery, 'x-roost-delivery-id names a delivery of this webhook').toBeDefined();
        expect(webhookIdOf(attempts[0]!)).toBe(delivery.eventId);
        expect(delivery).toMatchObject({ status: 'succeeded', attempts: 3 });
        expect(new Set(attempts.map((r) => headerOf(r, 'webhook-timestamp'))).size, 'fresh timestamp per attempt').toBe(3);
        expect(new Set(attempts.map((r) => jwtClaimsOf(r).jti)).size, 'fresh jti per attempt').toBe(3);
        expect(new Set(attempts.map((r) => headerOf(r, 'webhook-signature'))).size).toBe(3);
        expect(new Set(attempts.map((r) => r.text)).size, 'the same bytes every time').toBe(1);
      }
      expect(new Set(reqs.map(webhookIdOf)).size).toBe(2);
    });
  });

  describe('the URL signed is the URL requested', () => {
    // A receiver can only verify url_hash against the URL it was called on (scheme, host and
    // the request target: MessageBird's SDK middlewares rebuild it from the request). So for
    // any URL Roost accepts, what it signs must be exactly what it requests; it may instead
    // refuse a URL it cannot request verbatim.
    it.each([
      ['an empty query (trailing ?)', '/odd-empty-query?'],
      ['a fragment', '/odd-fragment?x=1#section'],
      ['an unescaped space', '/odd-space?q=a b'],
      ['non-ASCII characters', '/odd-ü?é=1'],
    ])('a webhook URL with %s is either refused or signed as requested', async (_what, path) => {
      const configured = receiver.urlFor(path);
      const res = await api('POST', '/v1/webhooks', { url: configured, events: ['message.created'] });
      if (res.status === 422) {
        expectError(res, 422, 10, 'url');
        return;
      }
      expect(res.status, res.text).toBe(201);
      hooks.forget(res.json.id);
      try {
        const requestPath = new URL(configured).pathname;
        await sayOn(sandboxA, phone(), 'odd url');
        const [r] = await receiver.waitForCount(1, (x) => x.path === requestPath);
        const requested = `${receiver.url}${r!.url}`;
        const claims = jwtClaimsOf(r!);
        expect(claims.url_hash, `url_hash is over ${JSON.stringify(configured)}; the request went to ${JSON.stringify(requested)}`)
          .toBe(sha256hex(requested));
        const check = await checkSignatures(r!, requested, signingKey);
        expect(check, check.errors.join('; ')).toMatchObject({ jwt: true, legacy: true, standard: true });
      } finally {
        await api('DELETE', `/v1/webhooks/${res.json.id}`);
      }
    });
  });

  describe('signing key regeneration', () => {
    it('is refused with a test key (403, MessageBird error body)', async () => {
      const testApi = apiClient(roost.url, roost.testKey!);
      const res = await testApi('POST', '/v1/signing-key/regenerate');
      expectError(res, 403, 2);
    });

    it('returns a new key with a live key; later deliveries verify with the new key and not the old one', async () => {
      const old = signingKey;
      const res = await api('POST', '/v1/signing-key/regenerate');
      expect(res.status, res.text).toBe(200);
      expect(sortedKeys(res.json)).toEqual(['signingKey']);
      expect(res.json.signingKey).toBeTypeOf('string');
      expect(res.json.signingKey.length).toBeGreaterThanOrEqual(16);
      expect(res.json.signingKey).not.toBe(old);
      signingKey = res.json.signingKey;

      const path = '/rotated';
      const url = receiver.urlFor(`${path}?k=v`);
      await hooks.create({ url, events: ['message.created'] });
      await sayOn(sandboxA, phone(), 'after rotation');
      const [r] = await receiver.waitForCount(1, onPath(path));
      const fresh = await checkSignatures(r!, url, signingKey);
      expect(fresh, fresh.errors.join('; ')).toMatchObject({ jwt: true, legacy: true, legacySdk: true, standard: true });
      expect(await checkSignatures(r!, url, old)).toMatchObject({ jwt: false, legacy: false, legacySdk: false, standard: false });
    });
  });

  describe('egress safety (ROOST_ALLOW_PRIVATE_URLS=0)', () => {
    let strict: RoostProcess;
    let strictApi: Api;
    beforeAll(async () => {
      strict = await startRoost({ env: { ...ENV, ROOST_ALLOW_PRIVATE_URLS: '0' } });
      strictApi = apiClient(strict.url, strict.liveKey!);
    });
    afterAll(async () => {
      await strict?.stop();
      if (strict) await removeDataDir(strict.dataDir);
    });

    it.each([
      'http://example.com/hook',
      'https://127.0.0.1/hook',
      'https://[::1]/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://localhost/hook',
      'https://10.1.2.3/hook',
      'https://[::ffff:127.0.0.1]/hook',
    ])('refuses %s (422, parameter url)', async (url) => {
      expectError(await strictApi('POST', '/v1/webhooks', { url, events: ['message.created'] }), 422, 10, 'url');
    });

    it('accepts a public https URL, and refuses a private one on update too', async () => {
      const ok = await strictApi('POST', '/v1/webhooks', { url: 'https://example.com/hook', events: ['message.created'] });
      expect(ok.status, ok.text).toBe(201);
      expectError(await strictApi('PATCH', `/v1/webhooks/${ok.json.id}`, { url: 'https://127.0.0.1/hook' }), 422, 10, 'url');
      const still = await strictApi('GET', `/v1/webhooks/${ok.json.id}`);
      expect(still.json.url).toBe('https://example.com/hook');
      expect((await strictApi('DELETE', `/v1/webhooks/${ok.json.id}`)).status).toBe(204);
    });
  });
});
