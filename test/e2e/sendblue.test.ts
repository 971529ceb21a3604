import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageResponse, sendblueInboundPayload, sendblueStatusPayload, startFakeSendblue } from '../helpers/fake-sendblue.js';
import type { FakeSendblue } from '../helpers/fake-sendblue.js';
import {
  ISO_DATETIME, conversationsOf, countEvents, createSandboxChannel, createSendblueChannel, expectError, messagesOf,
  msisdnOf, phoneFactory, postInbound, queryOne, scriptSendblue, sendJobDone, sleep, totalConversations, unknownId,
  updatedStatusesOf, waitForStatus,
} from '../helpers/e2e-fixtures.js';
import type { Api, ChannelView, Json, SendblueScript } from '../helpers/e2e-fixtures.js';
import { apiClient, eventually, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';

const SIGNING_SECRET = 'sb-signing-secret-0001';
const FROM_NUMBER = '+15122164639';
const SECRETS = { apiKeyId: 'sb-key-id-0001', apiSecretKey: 'sb-secret-key-0001', signingSecret: SIGNING_SECRET };

/** The receive-webhook body of seed 001 (the legacy docs example), verbatim apart from what a test varies. */
function seedPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    accountEmail: '[email protected]',
    content: 'Ahoy Developer!',
    media_url: 'some_cdn_link.png',
    is_outbound: false,
    status: 'RECEIVED',
    error_code: null,
    error_message: null,
    message_handle: 'xxxxx',
    date_sent: '2020-09-10T06:15:05.962Z',
    date_updated: '2020-09-10T06:15:05.962Z',
    from_number: '+19998887777',
    number: '+19998887777',
    to_number: '+15122164639',
    was_downgraded: false,
    plan: 'blue',
    ...overrides,
  };
}

describe('sendblue channel (end to end)', () => {
  let roost: RoostProcess;
  let fake: FakeSendblue;
  let script: SendblueScript;
  let api: Api;
  let sb: ChannelView;
  const phone = phoneFactory();

  /** A receive webhook from `from` on `channel`, signed with its secret unless told otherwise. */
  const receive = (channel: ChannelView, from: string, overrides: Record<string, unknown> = {}, secret: string | null = SIGNING_SECRET) =>
    postInbound(
      channel.inboundUrl,
      sendblueInboundPayload({
        number: from,
        from_number: from,
        to_number: channel.settings.fromNumber,
        sendblue_number: channel.settings.fromNumber,
        participants: [from, channel.settings.fromNumber],
        ...overrides,
      }),
      secret === null ? {} : { 'sb-signing-secret': secret },
    );

  /** Writes in from `from` and returns the contact's active conversation. */
  async function writeIn(channel: ChannelView, from: string, text = 'Hello!', secret = SIGNING_SECRET): Promise<Json> {
    const res = await receive(channel, from, { content: text }, secret);
    expect(res.status, res.text).toBe(200);
    const active = (await conversationsOf(api, from)).filter((c) => c.status === 'active');
    expect(active).toHaveLength(1);
    return active[0];
  }

  /** Waits until the fake has received `n` send requests for `number`; returns the last. */
  async function sentTo(number: string, n = 1) {
    await eventually(async () => script.requestsTo(number).length >= n);
    return script.requestsTo(number)[n - 1]!;
  }

  beforeAll(async () => {
    fake = await startFakeSendblue();
    script = scriptSendblue(fake);
    roost = await startRoost();
    api = apiClient(roost.url, roost.liveKey!);
    sb = await createSendblueChannel(api, fake, { name: 'imessage' });
  });

  afterAll(async () => {
    await roost?.stop();
    await fake?.close();
    if (roost) await removeDataDir(roost.dataDir);
  });

  describe('channel management', () => {
    const secretValues = Object.values(SECRETS);
    const expectNoSecrets = (body: unknown) => {
      const text = JSON.stringify(body);
      for (const v of secretValues) expect(text).not.toContain(v);
      for (const k of ['apiKeyId', 'apiSecretKey', 'signingSecret']) expect(text).not.toContain(`"${k}"`);
    };

    it('creates a sendblue channel and returns its public view without secrets', async () => {
      const res = await api('POST', '/v1/channels', {
        name: 'support line',
        platformId: 'sendblue',
        settings: { ...SECRETS, fromNumber: FROM_NUMBER, baseUrl: fake.url },
      });
      expect(res.status, res.text).toBe(201);
      const ch = res.json;
      expect(ch).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        name: 'support line',
        platformId: 'sendblue',
        status: 'active',
        settings: { fromNumber: FROM_NUMBER, baseUrl: fake.url },
        inboundUrl: `${roost.url}/inbound/${ch.id}`,
        createdDatetime: expect.stringMatching(ISO_DATETIME),
      });
      expect(ch).toHaveProperty('updatedDatetime');
      expectNoSecrets(res.json);
      expect(Object.keys(ch.settings).sort()).toEqual(['baseUrl', 'fromNumber']);

      const one = await api('GET', `/v1/channels/${ch.id}`);
      expect(one.status).toBe(200);
      expect(one.json).toMatchObject({ id: ch.id, platformId: 'sendblue', settings: { fromNumber: FROM_NUMBER } });
      expectNoSecrets(one.json);

      const list = await api('GET', '/v1/channels?limit=100');
      expect(list.status).toBe(200);
      expect(list.json.items.map((c: Json) => c.id)).toContain(ch.id);
      expectNoSecrets(list.json);

      const patched = await api('PATCH', `/v1/channels/${ch.id}`, { name: 'renamed', settings: { apiSecretKey: 'sb-secret-key-0001' } });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.json).toMatchObject({ id: ch.id, name: 'renamed', settings: { fromNumber: FROM_NUMBER, baseUrl: fake.url } });
      expect(patched.json.updatedDatetime).toMatch(ISO_DATETIME);
      expectNoSecrets(patched.json);
    });
  });

  describe('receive webhook', () => {
    it("stores the seed's receive payload and threads it into a conversation", async () => {
      const from = phone();
      const before = await countEvents(roost);
      const res = await postInbound(
        sb.inboundUrl,
        seedPayload({ number: from, from_number: from, media_url: '', message_handle: `seed-${from}` }),
        { 'sb-signing-secret': SIGNING_SECRET },
      );
      expect(res.status, res.text).toBe(200);
      expect(await countEvents(roost)).toBeGreaterThan(before);

      const convs = await conversationsOf(api, from);
      expect(convs).toHaveLength(1);
      const conv = convs[0];
      expect(conv).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        contactId: expect.any(String),
        contact: { id: conv.contactId, msisdn: msisdnOf(from) },
        channels: [{ id: sb.id, name: sb.name, platformId: 'sendblue', status: 'active' }],
        status: 'active',
        createdDatetime: expect.stringMatching(ISO_DATETIME),
        updatedDatetime: expect.stringMatching(ISO_DATETIME),
        lastReceivedDatetime: expect.stringMatching(ISO_DATETIME),
        lastUsedChannelId: sb.id,
        messages: { totalCount: 1, href: `${roost.url}/v1/conversations/${conv.id}/messages` },
      });
      expect(typeof conv.contact.msisdn).toBe('number');

      const one = await api('GET', `/v1/conversations/${conv.id}`);
      expect(one.status).toBe(200);
      expect(one.json.id).toBe(conv.id);

      const msgs = await messagesOf(api, conv.id);
      expect(msgs).toMatchObject({ offset: 0, count: 1, totalCount: 1 });
      expect(msgs.items[0]).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        conversationId: conv.id,
        channelId: sb.id,
        platform: 'sendblue',
        direction: 'received',
        status: 'received',
        from,
        to: FROM_NUMBER,
        type: 'text',
        content: { text: 'Ahoy Developer!' },
        createdDatetime: expect.stringMatching(ISO_DATETIME),
      });
      const byId = await api('GET', `/v1/messages/${msgs.items[0].id}`);
      expect(byId.status).toBe(200);
      expect(byId.json).toEqual(msgs.items[0]);
    });

    it("keeps the seed payload's media_url as a media message captioned with its content", async () => {
      const from = phone();
      const res = await postInbound(sb.inboundUrl, seedPayload({ number: from, from_number: from, message_handle: `media-${from}` }), {
        'sb-signing-secret': SIGNING_SECRET,
      });
      expect(res.status, res.text).toBe(200);
      const [conv] = await conversationsOf(api, from);
      const msgs = await messagesOf(api, conv.id);
      expect(msgs.items).toHaveLength(1);
      expect(msgs.items[0]).toMatchObject({ direction: 'received', type: 'image', content: { image: { url: 'some_cdn_link.png', caption: 'Ahoy Developer!' } } });
    });

    it('refuses a wrong or missing sb-signing-secret with 401 and stores nothing', async () => {
      const from = phone();
      const conversations = await totalConversations(api);
      const events = await countEvents(roost);
      const handle = `unsigned-${from}`;

      const missing = await receive(sb, from, { message_handle: handle }, null);
      expectError(missing, 401);
      const wrong = await receive(sb, from, { message_handle: handle }, 'not-the-secret');
      expectError(wrong, 401);
      const wrongLength = await receive(sb, from, { message_handle: handle }, `${SIGNING_SECRET}x`);
      expectError(wrongLength, 401);
      // A forged status-callback URL does not open the door either.
      const forged = await postInbound(`${sb.inboundUrl}?message=${unknownId()}&token=forged`, sendblueInboundPayload({ number: from, message_handle: handle }));
      expectError(forged, 401);

      expect(await totalConversations(api)).toBe(conversations);
      expect(await conversationsOf(api, from)).toHaveLength(0);
      expect(await countEvents(roost)).toBe(events);

      // The refused handle was not remembered: the correctly signed delivery is stored.
      const ok = await receive(sb, from, { message_handle: handle });
      expect(ok.status, ok.text).toBe(200);
      expect(await conversationsOf(api, from)).toHaveLength(1);
    });

    it('stores a message_handle posted twice as one message', async () => {
      const from = phone();
      const payload = sendblueInboundPayload({ number: from, from_number: from, content: 'twice' });
      const headers = { 'sb-signing-secret': SIGNING_SECRET };
      expect((await postInbound(sb.inboundUrl, payload, headers)).status).toBe(200);
      expect((await postInbound(sb.inboundUrl, payload, headers)).status).toBe(200);
      const convs = await conversationsOf(api, from);
      expect(convs).toHaveLength(1);
      expect(convs[0].messages.totalCount).toBe(1);
      expect((await messagesOf(api, convs[0].id)).totalCount).toBe(1);
    });

    it('stores a message_handle posted 5 times concurrently as one message', async () => {
      const from = phone();
      const payload = sendblueInboundPayload({ number: from, from_number: from, content: 'race' });
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => postInbound(sb.inboundUrl, payload, { 'sb-signing-secret': SIGNING_SECRET })),
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      const convs = await conversationsOf(api, from);
      expect(convs).toHaveLength(1);
      expect(convs[0].messages.totalCount).toBe(1);
      expect((await messagesOf(api, convs[0].id)).totalCount).toBe(1);
      const created = (await queryOne<{ n: number }>(roost, "SELECT count(*) AS n FROM events WHERE conversation_id = ? AND type = 'message.created'", [convs[0].id]))!.n;
      expect(created).toBe(1);
    });

    it('answers malformed JSON and non-object bodies with 400 and stores nothing', async () => {
      const conversations = await totalConversations(api);
      const events = await countEvents(roost);
      for (const body of ['{"number": "+31', 'not json at all', '[1,2,3]', '"a string"', '42', 'null', '']) {
        const res = await postInbound(sb.inboundUrl, body, { 'sb-signing-secret': SIGNING_SECRET });
        expectError(res, 400, 21);
      }
      expect(await totalConversations(api)).toBe(conversations);
      expect(await countEvents(roost)).toBe(events);
    });

    it('answers 404 for an unknown or malformed channel id', async () => {
      const body = sendblueInboundPayload({ number: phone() });
      expectError(await postInbound(`${roost.url}/inbound/${unknownId()}`, body, { 'sb-signing-secret': SIGNING_SECRET }), 404, 20);
      expectError(await postInbound(`${roost.url}/inbound/not-a-channel`, body, { 'sb-signing-secret': SIGNING_SECRET }), 404, 20);
      expectError(await postInbound(sb.inboundUrl, undefined, { 'sb-signing-secret': SIGNING_SECRET }, 'GET'), 405);
    });
  });

  describe('replies and status callbacks', () => {
    it('sends a reply through Sendblue and moves its status forward only', async () => {
      const to = phone();
      const conv = await writeIn(sb, to, 'I need help');

      const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'How can we help?' } });
      expect(reply.status, reply.text).toBe(201);
      const message = reply.json;
      expect(message).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        conversationId: conv.id,
        channelId: sb.id,
        platform: 'sendblue',
        direction: 'sent',
        status: 'accepted',
        type: 'text',
        content: { text: 'How can we help?' },
        to,
        from: FROM_NUMBER,
      });

      const req = await sentTo(to);
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/api/send-message');
      expect(req.headers['sb-api-key-id']).toBe(SECRETS.apiKeyId);
      expect(req.headers['sb-api-secret-key']).toBe(SECRETS.apiSecretKey);
      const body = req.body as Record<string, string>;
      expect(body).toMatchObject({ number: to, from_number: FROM_NUMBER, content: 'How can we help?' });
      expect(body.status_callback).toEqual(expect.stringContaining(`${roost.url}/inbound/${sb.id}`));

      // Sendblue answered QUEUED: handed off, not yet sent.
      await waitForStatus(api, message.id, 'pending');
      const [handle] = script.handles(to);
      expect(handle).toBeDefined();
      const status = (s: string, opts?: { signingSecret?: string }) =>
        fake.postStatus(body.status_callback!, sendblueStatusPayload({ status: s, message_handle: handle, number: to, to_number: to, from_number: FROM_NUMBER }), opts);

      expect((await status('SENT')).status).toBe(200);
      expect((await api('GET', `/v1/messages/${message.id}`)).json.status).toBe('sent');
      expect((await status('DELIVERED', { signingSecret: SIGNING_SECRET })).status).toBe(200);
      expect((await api('GET', `/v1/messages/${message.id}`)).json.status).toBe('delivered');
      // Callbacks arrive out of order: a late SENT does not move it back.
      expect((await status('SENT')).status).toBe(200);
      expect((await api('GET', `/v1/messages/${message.id}`)).json.status).toBe('delivered');
      expect((await status('READ')).status).toBe(200);
      const read = await api('GET', `/v1/messages/${message.id}`);
      expect(read.json).toMatchObject({ id: message.id, status: 'read', direction: 'sent' });
      expect(read.json.error).toBeUndefined();

      // One message.updated per real change, none for the stale SENT.
      expect(await updatedStatusesOf(roost, conv.id, message.id)).toEqual(['pending', 'sent', 'delivered', 'read']);
      // The message went out once.
      expect(script.requestsTo(to)).toHaveLength(1);
    });

    it('keeps a status callback that arrives before the send-message response', async () => {
      // Sendblue may POST the status_callback while Roost is still waiting for the answer to
      // send-message. The later "QUEUED" answer must not move the message back.
      const to = phone();
      let callback: { status: number; body: string } | undefined;
      script.queue(to, async (req) => {
        const json = messageResponse(req.body);
        const body = req.body as Record<string, string>;
        callback = await fake.postStatus(body.status_callback!, sendblueStatusPayload({
          status: 'DELIVERED', message_handle: json.message_handle, number: to, to_number: to, from_number: FROM_NUMBER,
        }));
        return { status: 200, json };
      });
      const res = await api('POST', '/v1/send', { from: sb.id, to, type: 'text', content: { text: 'fast callback' } });
      expect(res.status, res.text).toBe(202);
      const id = res.json.id as string;
      await sentTo(to);
      // Wait until the send worker has recorded the outcome (its job is gone).
      await eventually(() => sendJobDone(roost, id));
      expect(callback?.status).toBe(200);
      const m = await api('GET', `/v1/messages/${id}`);
      // The history shows any step backwards: only the callback's change may be recorded.
      expect(await updatedStatusesOf(roost, m.json.conversationId, id)).toEqual(['delivered']);
      expect(m.json.status).toBe('delivered');
    });

    it('applies a status update sent with the signing secret to the plain inbound URL', async () => {
      const to = phone();
      const res = await api('POST', '/v1/send', { from: sb.id, to, type: 'text', content: { text: 'account-wide outbound webhook' } });
      expect(res.status).toBe(202);
      await waitForStatus(api, res.json.id, 'pending');
      const [handle] = script.handles(to);
      const payload = sendblueStatusPayload({ status: 'DELIVERED', message_handle: handle, number: to, to_number: to, from_number: FROM_NUMBER });
      expectError(await postInbound(sb.inboundUrl, payload), 401);
      expect((await api('GET', `/v1/messages/${res.json.id}`)).json.status).toBe('pending');
      const ok = await postInbound(sb.inboundUrl, payload, { 'sb-signing-secret': SIGNING_SECRET });
      expect(ok.status, ok.text).toBe(200);
      expect((await api('GET', `/v1/messages/${res.json.id}`)).json.status).toBe('delivered');
    });

    it('does not let a status-callback URL carry an inbound message', async () => {
      const to = phone();
      const res = await api('POST', '/v1/send', { from: sb.id, to, type: 'text', content: { text: 'callback scope' } });
      expect(res.status).toBe(202);
      const req = await sentTo(to);
      const callbackUrl = (req.body as Record<string, string>).status_callback!;
      const intruder = phone();
      const before = await totalConversations(api);
      const forged = await postInbound(callbackUrl, sendblueInboundPayload({ number: intruder, from_number: intruder }));
      expect(forged.status).toBeGreaterThanOrEqual(400);
      expect(forged.status).toBeLessThan(500);
      expect(await totalConversations(api)).toBe(before);
      expect(await conversationsOf(api, intruder)).toHaveLength(0);
    });

    it('marks a message failed with the provider error when Sendblue refuses it', async () => {
      const to = phone();
      script.queue(to, { status: 400, json: { status: 'ERROR', error_code: 4000, error_message: 'Invalid phone number' } });
      const res = await api('POST', '/v1/send', { from: sb.id, to, type: 'text', content: { text: 'will fail' } });
      expect(res.status, res.text).toBe(202);
      expect(res.json.status).toBe('accepted');
      const failed = await waitForStatus(api, res.json.id, 'failed');
      expect(failed.error).toEqual({ code: 4000, description: 'Invalid phone number' });
      await sleep(300);
      expect(script.requestsTo(to)).toHaveLength(1); // a permanent refusal is not retried
    });

    it('retries a transient provider failure and records the provider id', async () => {
      const to = phone();
      script.queue(to, { status: 500, json: { status: 'ERROR', message: 'internal error' } });
      const res = await api('POST', '/v1/send', { from: sb.id, to, type: 'text', content: { text: 'second time lucky' } });
      expect(res.status, res.text).toBe(202);
      const id = res.json.id as string;

      await sentTo(to, 1);
      await sleep(100);
      expect((await api('GET', `/v1/messages/${id}`)).json.status).toBe('accepted'); // waiting for its retry, not failed

      await sentTo(to, 2); // the first retry comes after about a second
      const done = await waitForStatus(api, id, 'pending');
      expect(done.error).toBeUndefined();
      const [handle] = script.handles(to);
      expect(handle).toBeDefined();
      const stored = await queryOne<{ p: string | null; status: string }>(roost, 'SELECT provider_message_id AS p, status FROM messages WHERE id = ?', [id]);
      expect(stored).toEqual({ p: handle, status: 'pending' });
      expect(script.requestsTo(to)).toHaveLength(2);
    });
  });

  describe('threading across channels', () => {
    it('treats one phone number on two sendblue channels as one contact in one conversation', async () => {
      const sb2 = await createSendblueChannel(api, fake, { name: 'second line', fromNumber: '+15125550143', signingSecret: 'sb-signing-secret-0002' });
      const from = phone();
      const first = await writeIn(sb, from, 'on line one');
      const second = await writeIn(sb2, from, 'on line two', 'sb-signing-secret-0002');

      expect(second.id).toBe(first.id);
      expect(second.contactId).toBe(first.contactId);
      expect(second.channels.map((c: Json) => c.id)).toEqual([sb.id, sb2.id]);
      expect(second.lastUsedChannelId).toBe(sb2.id);
      expect(second.messages.totalCount).toBe(2);
      const msgs = await messagesOf(api, first.id);
      expect(msgs.items.map((m: Json) => [m.channelId, m.to])).toEqual([[sb2.id, '+15125550143'], [sb.id, FROM_NUMBER]]);

      // A reply without channelId goes out where the contact last wrote from.
      const reply = await api('POST', `/v1/conversations/${first.id}/messages`, { type: 'text', content: { text: 'answer' } });
      expect(reply.status, reply.text).toBe(201);
      expect(reply.json).toMatchObject({ channelId: sb2.id, from: '+15125550143', to: from });
      const req = await sentTo(from);
      expect(req.body).toMatchObject({ number: from, from_number: '+15125550143' });

      // Writing again on the first line moves the default back.
      await writeIn(sb, from, 'back on line one');
      const reply2 = await api('POST', `/v1/conversations/${first.id}/messages`, { type: 'text', content: { text: 'answer 2' } });
      expect(reply2.status, reply2.text).toBe(201);
      expect(reply2.json).toMatchObject({ channelId: sb.id, from: FROM_NUMBER });
      expect((await sentTo(from, 2)).body).toMatchObject({ from_number: FROM_NUMBER });
    });

    it('treats one phone number on a sandbox and a sendblue channel as one contact in one conversation', async () => {
      const sandbox = await createSandboxChannel(api, { fromNumber: '+15125550199' });
      const from = phone();
      const viaSandbox = await postInbound(sandbox.inboundUrl, { from, text: 'hi from the sandbox' });
      expect(viaSandbox.status, viaSandbox.text).toBe(200);
      const conv = await writeIn(sb, from, 'hi from iMessage');
      const all = await conversationsOf(api, from);
      expect(all).toHaveLength(1);
      expect(conv.channels.map((c: Json) => c.id)).toEqual([sandbox.id, sb.id]);
      expect(conv.lastUsedChannelId).toBe(sb.id);
      expect(conv.messages.totalCount).toBe(2);

      const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'hello' } });
      expect(reply.status, reply.text).toBe(201);
      expect(reply.json.channelId).toBe(sb.id);
      await sentTo(from);
    });

    it('opens a new conversation when the contact of an archived one writes again', async () => {
      const from = phone();
      const first = await writeIn(sb, from, 'first visit');
      const archived = await api('PATCH', `/v1/conversations/${first.id}`, { status: 'archived' });
      expect(archived.status, archived.text).toBe(200);
      expect(archived.json.status).toBe('archived');

      const again = await receive(sb, from, { content: 'second visit' });
      expect(again.status, again.text).toBe(200);
      const convs = await conversationsOf(api, from);
      expect(convs).toHaveLength(2);
      const active = convs.filter((c) => c.status === 'active');
      expect(active).toHaveLength(1);
      expect(active[0].id).not.toBe(first.id);
      expect(active[0].contactId).toBe(first.contactId);
      expect(active[0].messages.totalCount).toBe(1);

      const old = await api('GET', `/v1/conversations/${first.id}`);
      expect(old.json).toMatchObject({ id: first.id, status: 'archived', messages: { totalCount: 1 } });
      const newMessages = await messagesOf(api, active[0].id);
      expect(newMessages.items[0].content).toEqual({ text: 'second visit' });
    });
  });

  describe('test mode', () => {
    it('progresses a message sent with a test key without calling Sendblue', async () => {
      const testApi = apiClient(roost.url, roost.testKey!);
      const to = phone();
      const res = await testApi('POST', '/v1/send', { from: sb.id, to, type: 'text', content: { text: 'just testing' } });
      expect(res.status, res.text).toBe(202);
      expect(res.json).toMatchObject({ id: expect.any(String), status: 'accepted', message: { id: res.json.id, status: 'accepted' } });
      const delivered = await waitForStatus(testApi, res.json.id, 'delivered');
      expect(delivered.error).toBeUndefined();
      expect(await updatedStatusesOf(roost, delivered.conversationId, res.json.id)).toEqual(['sent', 'delivered']);
      await sleep(200);
      expect(script.requestsTo(to)).toHaveLength(0);
      expect(fake.requests.some((r) => JSON.stringify(r.body).includes(to.slice(1)))).toBe(false);
    });
  });
});
