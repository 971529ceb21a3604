import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getStatusReport, jwtHeader, legacyHeaders, messageBirdErrors, messageBirdFixture, newMessageBirdId, postWebhook,
  startFakeMessageBird, webhookPayload, withQuery,
} from '../helpers/fake-messagebird.js';
import type { FakeMessageBird } from '../helpers/fake-messagebird.js';
import {
  ISO_DATETIME, conversationsOf, countEvents, expectError, listAll, messagesOf, msisdnOf, phoneFactory, postInbound, providerIdOf,
  sleep, totalConversations, updatedStatusesOf, waitForStatus,
} from '../helpers/e2e-fixtures.js';
import type { Api, ChannelView, Json } from '../helpers/e2e-fixtures.js';
import { apiClient, eventually, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';

const ACCESS_KEY = 'live_mb_access_key_e2e';
const SIGNING_KEY = 'mb-signing-key-e2e-0001';
const MB_CHANNEL = '2ceefea7c1b8c79673215c42c1a6b916';
const FROM_NUMBER = '+3197010260000';

describe('messagebird channel (end to end)', () => {
  let roost: RoostProcess;
  let fake: FakeMessageBird;
  let api: Api;
  let mb: ChannelView;
  const phone = phoneFactory();

  const statusOf = async (messageId: string) => (await api('GET', `/v1/messages/${messageId}`)).json.status as string;

  /** A message.created webhook (the fixture based on seed 000) of a message `from` wrote. */
  const incoming = (from: string, message: Record<string, unknown> = {}) =>
    webhookPayload('message-created-text', { id: newMessageBirdId(), from, channelId: MB_CHANNEL, ...message });

  /** A message.updated webhook about a message Roost sent. */
  const updated = (providerId: string, to: string, status: string, message: Record<string, unknown> = {}) =>
    webhookPayload('message-updated-delivered', { id: providerId, to, status, channelId: MB_CHANNEL, ...message });

  async function writeIn(from: string, text = 'Hello!'): Promise<Json> {
    const res = await postWebhook(mb.inboundUrl, incoming(from, { content: { text } }), SIGNING_KEY);
    expect(res.status, res.body).toBe(200);
    const active = (await conversationsOf(api, from)).filter((c) => c.status === 'active');
    expect(active).toHaveLength(1);
    return active[0];
  }

  /** Sends a reply to `to` and waits until MessageBird accepted it; returns the message and the /send request. */
  async function replyTo(to: string, text: string) {
    const conv = await writeIn(to);
    const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text } });
    expect(reply.status, reply.text).toBe(201);
    await waitForStatus(api, reply.json.id, 'pending');
    const [req] = fake.sendsTo(to);
    const [providerId] = fake.idsFor(to);
    return { conv, message: reply.json as Json, req: req!, providerId: providerId! };
  }

  beforeAll(async () => {
    fake = await startFakeMessageBird();
    roost = await startRoost();
    api = apiClient(roost.url, roost.liveKey!);
    const res = await api('POST', '/v1/channels', {
      name: 'messagebird sms',
      platformId: 'messagebird',
      settings: { accessKey: ACCESS_KEY, signingKey: SIGNING_KEY, channelId: MB_CHANNEL, fromNumber: FROM_NUMBER, baseUrl: fake.url },
    });
    expect(res.status, res.text).toBe(201);
    mb = res.json as ChannelView;
  });

  afterAll(async () => {
    await roost?.stop();
    await fake?.close();
    if (roost) await removeDataDir(roost.dataDir);
  });

  describe('channel management', () => {
    it('creates the channel with public settings only', async () => {
      expect(mb).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        name: 'messagebird sms',
        platformId: 'messagebird',
        status: 'active',
        settings: { channelId: MB_CHANNEL, fromNumber: FROM_NUMBER, baseUrl: fake.url },
        inboundUrl: `${roost.url}/inbound/${mb.id}`,
        createdDatetime: expect.stringMatching(ISO_DATETIME),
      });
      expect(Object.keys(mb.settings).sort()).toEqual(['baseUrl', 'channelId', 'fromNumber']);
      for (const body of [mb, (await api('GET', `/v1/channels/${mb.id}`)).json, await listAll(api, '/v1/channels')]) {
        const text = JSON.stringify(body);
        for (const secret of [ACCESS_KEY, SIGNING_KEY, '"accessKey"', '"signingKey"']) expect(text).not.toContain(secret);
      }
      expect(fake.requests).toHaveLength(0); // nothing to register with MessageBird
    });

    it('refuses a channel without its signing key or channel id', async () => {
      const without = await api('POST', '/v1/channels', { platformId: 'messagebird', settings: { accessKey: ACCESS_KEY, channelId: MB_CHANNEL } });
      expectError(without, 422, 9, 'settings.signingKey');
      const noChannel = await api('POST', '/v1/channels', { platformId: 'messagebird', settings: { accessKey: ACCESS_KEY, signingKey: SIGNING_KEY } });
      expectError(noChannel, 422, 9, 'settings.channelId');
    });
  });

  describe('conversation webhooks', () => {
    it('stores a received message (seed 000 payload) and threads it into a conversation', async () => {
      const from = phone();
      const before = await countEvents(roost);
      const res = await postWebhook(mb.inboundUrl, incoming(from), SIGNING_KEY);
      expect(res).toEqual({ status: 200, contentType: expect.stringContaining('application/json'), body: '{"status":"ok"}' });
      expect(await countEvents(roost)).toBeGreaterThan(before);

      const convs = await conversationsOf(api, from);
      expect(convs).toHaveLength(1);
      expect(convs[0]).toMatchObject({
        contact: { msisdn: msisdnOf(from) },
        channels: [{ id: mb.id, platformId: 'messagebird' }],
        status: 'active',
        lastUsedChannelId: mb.id,
        messages: { totalCount: 1 },
      });
      const msgs = await messagesOf(api, convs[0].id);
      expect(msgs.items[0]).toMatchObject({
        channelId: mb.id,
        platform: 'messagebird',
        direction: 'received',
        status: 'received',
        from,
        to: FROM_NUMBER,
        type: 'text',
        content: { text: 'Testing webhook functionality.' },
      });
    });

    it('stores images and locations, and reads an MSISDN sender as the same contact', async () => {
      const from = phone();
      const image = webhookPayload('message-created-image', { id: newMessageBirdId(), from: from.slice(1), channelId: MB_CHANNEL });
      const location = webhookPayload('message-created-location', { id: newMessageBirdId(), from, channelId: MB_CHANNEL });
      expect((await postWebhook(mb.inboundUrl, image, SIGNING_KEY)).status).toBe(200);
      expect((await postWebhook(mb.inboundUrl, location, SIGNING_KEY)).status).toBe(200);
      const convs = await conversationsOf(api, from);
      expect(convs).toHaveLength(1);
      const msgs = await messagesOf(api, convs[0].id);
      expect(msgs.items.map((m: Json) => [m.from, m.type, m.content]).reverse()).toEqual([
        [from, 'image', { image: { url: 'https://media.messagebird.com/v1/media/0c5d7a9e-3b5e-4a4f-9f61-7c2d8b1e4a11', caption: 'Receipt attached' } }],
        [from, 'location', { location: { latitude: 52.370216, longitude: 4.895168 } }],
      ]);
    });

    it('keys contacts of non-phone platforms on their MessageBird id, and replies to them there', async () => {
      const psid = `29837498237${String(Date.now()).slice(-5)}`;
      const payload = webhookPayload('message-created-telegram-platform', { id: newMessageBirdId(), from: psid, platform: 'facebook', channelId: MB_CHANNEL });
      expect((await postWebhook(mb.inboundUrl, payload, SIGNING_KEY)).status).toBe(200);
      const conv = (await listAll(api, '/v1/conversations')).find((c: Json) => c.contact.displayName === 'Ada Lovelace');
      expect(conv).toMatchObject({ contact: { msisdn: null, displayName: 'Ada Lovelace' } });
      expect((await messagesOf(api, conv.id)).items[0]).toMatchObject({ from: psid, to: 'roost_support_bot', content: { text: 'Hi from Telegram' } });

      const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'Hi Ada' } });
      expect(reply.status, reply.text).toBe(201);
      expect(reply.json).toMatchObject({ to: psid, from: FROM_NUMBER });
      await waitForStatus(api, reply.json.id, 'pending');
      expect(fake.sendsTo(psid)[0]!.body).toMatchObject({ to: psid, from: MB_CHANNEL, type: 'text', content: { text: 'Hi Ada' } });
    });

    it('refuses a bad, missing, expired or misdirected signature with 401 and stores nothing', async () => {
      const from = phone();
      const payload = incoming(from);
      const body = JSON.stringify(payload);
      const conversations = await totalConversations(api);
      const events = await countEvents(roost);
      const now = Math.floor(Date.now() / 1000);
      const attempts: Array<[string, Record<string, string>]> = [
        ['missing', {}],
        ['another key', jwtHeader(mb.inboundUrl, body, 'not-the-signing-key')],
        ['expired', jwtHeader(mb.inboundUrl, body, SIGNING_KEY, { nowSeconds: now - 3600 })],
        ['not yet valid', jwtHeader(mb.inboundUrl, body, SIGNING_KEY, { nowSeconds: now + 3600 })],
        ['another URL', jwtHeader(`${roost.url}/inbound/${'0'.repeat(32)}`, body, SIGNING_KEY)],
        ['another body', jwtHeader(mb.inboundUrl, JSON.stringify(incoming(from, { content: { text: 'forged' } })), SIGNING_KEY)],
        ['garbage', { 'MessageBird-Signature-JWT': 'not.a.jwt' }],
      ];
      for (const [what, headers] of attempts) {
        const res = await postWebhook(mb.inboundUrl, body, SIGNING_KEY, { headers });
        expect(res.status, what).toBe(401);
        expect(JSON.parse(res.body).errors[0]).toMatchObject({ code: 2 });
      }
      expect(await totalConversations(api)).toBe(conversations);
      expect(await conversationsOf(api, from)).toHaveLength(0);
      expect(await countEvents(roost)).toBe(events);
      await eventually(async () => roost.output().includes('inbound webhook refused')); // logs arrive asynchronously

      // The refused message id was not remembered: the properly signed delivery is stored.
      expect((await postWebhook(mb.inboundUrl, body, SIGNING_KEY)).status).toBe(200);
      expect(await conversationsOf(api, from)).toHaveLength(1);
    });

    it('refuses the same signed request a second time (replay)', async () => {
      const from = phone();
      const body = JSON.stringify(incoming(from));
      const headers = jwtHeader(mb.inboundUrl, body, SIGNING_KEY);
      const first = await postWebhook(mb.inboundUrl, body, SIGNING_KEY, { headers });
      expect(first.status, first.body).toBe(200);
      const events = await countEvents(roost);
      const second = await postWebhook(mb.inboundUrl, body, SIGNING_KEY, { headers });
      expect(second.status, second.body).toBe(401);
      expect(second.body).toContain('replay');
      expect(await countEvents(roost)).toBe(events);
      await eventually(async () => roost.output().includes('replayed signature')); // logs arrive asynchronously
    });

    it('stores a message id delivered twice (fresh signatures), or five times at once, as one message', async () => {
      const from = phone();
      const payload = incoming(from, { content: { text: 'twice' } });
      expect((await postWebhook(mb.inboundUrl, payload, SIGNING_KEY)).status).toBe(200);
      expect((await postWebhook(mb.inboundUrl, payload, SIGNING_KEY)).status).toBe(200);
      const raced = incoming(from, { content: { text: 'race' } });
      const answers = await Promise.all(Array.from({ length: 5 }, () => postWebhook(mb.inboundUrl, raced, SIGNING_KEY)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      const convs = await conversationsOf(api, from);
      expect(convs).toHaveLength(1);
      expect((await messagesOf(api, convs[0].id)).items.map((m: Json) => m.content.text)).toEqual(['race', 'twice']);
    });

    it('acknowledges conversation events, other channels and unknown messages without storing anything', async () => {
      const events = await countEvents(roost);
      const conversations = await totalConversations(api);
      const acks = [
        messageBirdFixture('conversation-created'),
        incoming(phone(), { channelId: 'another-messagebird-channel' }),
        updated(newMessageBirdId(), phone(), 'delivered'),
      ];
      for (const body of acks) expect((await postWebhook(mb.inboundUrl, body, SIGNING_KEY)).status).toBe(200);
      expect(await countEvents(roost)).toBe(events);
      expect(await totalConversations(api)).toBe(conversations);
    });

    it('answers a signed but malformed body with 400, and an unsigned GET with 401', async () => {
      const events = await countEvents(roost);
      for (const body of ['{"type": ', '[1]', '{"message": {}}']) {
        const res = await postWebhook(mb.inboundUrl, body, SIGNING_KEY);
        expect(res.status, body).toBe(400);
      }
      expectError(await postInbound(withQuery(mb.inboundUrl, { id: 'x', status: 'delivered' }), undefined, {}, 'GET'), 401);
      expect(await countEvents(roost)).toBe(events);
    });
  });

  describe('replies and status updates', () => {
    it('sends a reply through POST /send with the access key, the channel id and a reportUrl', async () => {
      const to = phone();
      const { message, req, providerId } = await replyTo(to, 'How can we help?');
      expect(message).toMatchObject({ channelId: mb.id, platform: 'messagebird', direction: 'sent', to, from: FROM_NUMBER, type: 'text' });
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/v1/send');
      expect(req.headers.authorization).toBe(`AccessKey ${ACCESS_KEY}`);
      expect(req.headers['content-type']).toBe('application/json');
      const body = req.body as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['content', 'from', 'reportUrl', 'to', 'type']);
      expect(body).toMatchObject({ to, from: MB_CHANNEL, type: 'text', content: { text: 'How can we help?' } });
      expect(body.reportUrl).toEqual(expect.stringMatching(new RegExp(`^${mb.inboundUrl}\\?message=${message.id}&token=[A-Za-z0-9_-]+$`)));
      expect(await providerIdOf(roost, message.id)).toBe(providerId);
      expect(fake.sendsTo(to)).toHaveLength(1);
    });

    it('moves the status forward on message.updated webhooks, never back', async () => {
      const to = phone();
      const { conv, message, providerId } = await replyTo(to, 'status please');
      const post = async (status: string) => {
        const res = await postWebhook(mb.inboundUrl, updated(providerId, to, status), SIGNING_KEY);
        expect(res.status, res.body).toBe(200);
        return statusOf(message.id);
      };
      expect(await post('sent')).toBe('sent');
      expect(await post('delivered')).toBe('delivered');
      expect(await post('sent')).toBe('delivered'); // late and out of order
      expect(await post('pending')).toBe('delivered');
      expect(await post('read')).toBe('read');
      expect(await updatedStatusesOf(roost, conv.id, message.id)).toEqual(['pending', 'sent', 'delivered', 'read']);
    });

    it('marks a message failed with the error a message.updated carries', async () => {
      const to = phone();
      const { message, providerId } = await replyTo(to, 'will bounce');
      const payload = webhookPayload('message-updated-failed', { id: providerId, to, channelId: MB_CHANNEL });
      expect((await postWebhook(mb.inboundUrl, payload, SIGNING_KEY)).status).toBe(200);
      const failed = await api('GET', `/v1/messages/${message.id}`);
      expect(failed.json).toMatchObject({ status: 'failed', error: { code: 302, description: 'The contact is not registered on WhatsApp.' } });
    });

    it('applies SMS status reports GET to the reportUrl, signed with a JWT over the whole URL', async () => {
      const to = phone();
      const { conv, message, req, providerId } = await replyTo(to, 'report back');
      const reportUrl = (req.body as { reportUrl: string }).reportUrl;
      const report = (status: string, extra: Record<string, string> = {}) =>
        getStatusReport(reportUrl, { id: providerId, recipient: to.slice(1), status, statusDatetime: new Date().toISOString(), ...extra }, SIGNING_KEY);

      const sent = await report('sent');
      expect(sent).toEqual({ status: 200, contentType: expect.stringContaining('text/plain'), body: 'OK' });
      expect(await statusOf(message.id)).toBe('sent');
      expect((await report('delivered', { statusReason: 'successfully delivered', statusErrorCode: '0' })).status).toBe(200);
      expect(await statusOf(message.id)).toBe('delivered');
      expect((await report('buffered')).body).toBe('OK');
      expect(await statusOf(message.id)).toBe('delivered');
      expect(await updatedStatusesOf(roost, conv.id, message.id)).toEqual(['pending', 'sent', 'delivered']);
    });

    it('refuses a status report whose query is not the signed one, an unsigned one and a replayed one', async () => {
      const to = phone();
      const { message, req, providerId } = await replyTo(to, 'forgery target');
      const reportUrl = (req.body as { reportUrl: string }).reportUrl;
      const signedUrl = withQuery(reportUrl, { id: providerId, status: 'delivered' });
      const headers = jwtHeader(signedUrl, '', SIGNING_KEY);
      const forged = await fetch(withQuery(reportUrl, { id: providerId, status: 'delivery_failed' }), { headers });
      expect(forged.status).toBe(401);
      expect((await getStatusReport(reportUrl, { id: providerId, status: 'delivery_failed' }, SIGNING_KEY, { scheme: 'none' })).status).toBe(401);
      expect(await statusOf(message.id)).toBe('pending');

      expect((await fetch(signedUrl, { headers })).status).toBe(200);
      expect(await statusOf(message.id)).toBe('delivered');
      expect((await fetch(signedUrl, { headers })).status).toBe(401); // the same token again
    });

    it('accepts a legacy-signed status report on the plain inbound URL, matched by MessageBird id', async () => {
      const to = phone();
      const { message, providerId } = await replyTo(to, 'legacy account');
      const params = { id: providerId, recipient: to.slice(1), status: 'delivery_failed', statusReason: 'unknown subscriber', statusErrorCode: '1' };
      const stale = await getStatusReport(mb.inboundUrl, params, SIGNING_KEY, { scheme: 'legacy', timestampSeconds: Math.floor(Date.now() / 1000) - 3600 });
      expect(stale.status).toBe(401);
      expect(await statusOf(message.id)).toBe('pending');
      const fresh = await getStatusReport(mb.inboundUrl, params, SIGNING_KEY, { scheme: 'legacy' });
      expect(fresh).toMatchObject({ status: 200, body: 'OK' });
      const failed = await api('GET', `/v1/messages/${message.id}`);
      expect(failed.json).toMatchObject({ status: 'failed', error: { code: 1, description: 'unknown subscriber' } });
      // A legacy signature on a conversation webhook is not enough.
      const body = JSON.stringify(incoming(phone()));
      expect((await postWebhook(mb.inboundUrl, body, SIGNING_KEY, { headers: legacyHeaders(mb.inboundUrl, body, SIGNING_KEY) })).status).toBe(401);
    });

    it('finds the message of a status report by its reference', async () => {
      const to = phone();
      const { message } = await replyTo(to, 'by reference');
      const res = await getStatusReport(mb.inboundUrl, { id: newMessageBirdId(), reference: message.id, status: 'delivered' }, SIGNING_KEY);
      expect(res.status, res.body).toBe(200);
      expect(await statusOf(message.id)).toBe('delivered');
    });

    it("marks a message failed with MessageBird's error when /send refuses it, without retrying", async () => {
      const to = phone();
      fake.queueFor(to, { status: 422, json: messageBirdFixture('send-error') });
      const res = await api('POST', '/v1/send', { from: mb.id, to, type: 'text', content: { text: 'will fail' } });
      expect(res.status, res.text).toBe(202);
      const failed = await waitForStatus(api, res.json.id, 'failed');
      expect(failed.error).toEqual({ code: 21, description: 'The contact is not reachable on this channel' });
      await sleep(300);
      expect(fake.sendsTo(to)).toHaveLength(1);
    });

    it('retries a 5xx and a 429, then records the id MessageBird gave', async () => {
      const to = phone();
      fake.queueFor(to, messageBirdErrors(500, 99, 'Internal error'), { ...messageBirdErrors(429, 429, 'Too many requests'), headers: { 'retry-after': '1' } });
      const res = await api('POST', '/v1/send', { from: mb.id, to, type: 'image', content: { image: { url: 'https://example.com/a.png', caption: 'hi' } } });
      expect(res.status, res.text).toBe(202);
      await eventually(async () => fake.sendsTo(to).length >= 1);
      await sleep(100);
      expect(await statusOf(res.json.id)).toBe('accepted');
      await waitForStatus(api, res.json.id, 'pending', 15_000);
      expect(fake.sendsTo(to)).toHaveLength(3);
      expect(fake.sendsTo(to).map((r) => (r.body as Json).content)).toEqual(Array(3).fill({ image: { url: 'https://example.com/a.png', caption: 'hi' } }));
      expect(await providerIdOf(roost, res.json.id)).toBe(fake.idsFor(to)[0]);
    });
  });
});
