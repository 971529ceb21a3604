import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ISO_DATETIME, conversationsOf, createSandboxChannel, expectError, listAll, messagesOf, msisdnOf, phoneFactory,
  postInbound, totalConversations, waitForStatus,
} from '../helpers/e2e-fixtures.js';
import type { Api, ChannelView, Json } from '../helpers/e2e-fixtures.js';
import { apiClient, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';

const SANDBOX_NUMBER = '+15005550006';
/** Slow enough that polling sees every simulated step, fast enough to keep the file quick. */
const STEP_MS = 250;

describe('sandbox channel (end to end)', () => {
  let roost: RoostProcess;
  let api: Api;
  let sandbox: ChannelView;
  const phone = phoneFactory();

  beforeAll(async () => {
    roost = await startRoost({ env: { ROOST_SIMULATED_STEP_MS: String(STEP_MS) } });
    api = apiClient(roost.url, roost.liveKey!);
    sandbox = await createSandboxChannel(api, { fromNumber: SANDBOX_NUMBER });
  });

  afterAll(async () => {
    await roost?.stop();
    if (roost) await removeDataDir(roost.dataDir);
  });

  it('creates a sandbox channel with its inbound URL', () => {
    expect(sandbox).toMatchObject({
      platformId: 'sandbox',
      status: 'active',
      settings: { fromNumber: SANDBOX_NUMBER },
      inboundUrl: `${roost.url}/inbound/${sandbox.id}`,
      createdDatetime: expect.stringMatching(ISO_DATETIME),
    });
  });

  describe('inbound', () => {
    it('stores {"from", "text"} as a received text message in a new conversation', async () => {
      const from = phone();
      const res = await postInbound(sandbox.inboundUrl, { from, text: 'Hi' });
      expect(res.status, res.text).toBe(200);
      expect(res.json).toEqual({ status: 'ok' });

      const convs = await conversationsOf(api, from);
      expect(convs).toHaveLength(1);
      expect(convs[0]).toMatchObject({
        status: 'active',
        contact: { msisdn: msisdnOf(from) },
        channels: [{ id: sandbox.id, platformId: 'sandbox' }],
        lastUsedChannelId: sandbox.id,
        lastReceivedDatetime: expect.stringMatching(ISO_DATETIME),
        messages: { totalCount: 1 },
      });
      const msgs = await messagesOf(api, convs[0].id);
      expect(msgs.items[0]).toMatchObject({
        channelId: sandbox.id,
        platform: 'sandbox',
        direction: 'received',
        status: 'received',
        type: 'text',
        content: { text: 'Hi' },
        from,
        to: SANDBOX_NUMBER,
      });
    });

    it('normalises the sender to E.164, keeps the name and accepts typed content', async () => {
      const from = phone();
      const spaced = `${from.slice(0, 3)} ${from.slice(3, 4)} ${from.slice(4, 8)} ${from.slice(8)}`;
      const res = await postInbound(sandbox.inboundUrl, {
        from: spaced,
        type: 'image',
        content: { image: { url: 'https://example.com/cat.png', caption: 'a cat' } },
        name: 'Ann',
        id: `img-${from}`,
      });
      expect(res.status, res.text).toBe(200);
      const [conv] = await conversationsOf(api, from);
      expect(conv.contact).toMatchObject({ msisdn: msisdnOf(from), displayName: 'Ann' });
      const msgs = await messagesOf(api, conv.id);
      expect(msgs.items[0]).toMatchObject({ from, type: 'image', content: { image: { url: 'https://example.com/cat.png', caption: 'a cat' } } });
    });

    it('stores a repeated id once', async () => {
      const from = phone();
      const body = { from, text: 'once', id: `dup-${from}` };
      expect((await postInbound(sandbox.inboundUrl, body)).status).toBe(200);
      expect((await postInbound(sandbox.inboundUrl, body)).status).toBe(200);
      const [conv] = await conversationsOf(api, from);
      expect(conv.messages.totalCount).toBe(1);
    });

    it('makes a non-phone sender a sandbox-only contact', async () => {
      const user = `tester-${phone().slice(-6)}`;
      const res = await postInbound(sandbox.inboundUrl, { from: user, text: 'no number' });
      expect(res.status, res.text).toBe(200);
      const candidates = (await listAll(api, '/v1/conversations')).filter((c: Json) => c.contact.msisdn === null);
      const found: Json[] = [];
      for (const c of candidates) {
        const msgs = await messagesOf(api, c.id);
        if (msgs.items.some((m: Json) => m.from === user)) found.push({ conversation: c, message: msgs.items[0] });
      }
      expect(found).toHaveLength(1);
      expect(found[0].conversation.channels.map((ch: Json) => ch.id)).toEqual([sandbox.id]);
      expect(found[0].message).toMatchObject({ from: user, direction: 'received', content: { text: 'no number' } });
    });

    it('refuses bad bodies with MessageBird errors and stores nothing', async () => {
      const before = await totalConversations(api);
      expectError(await postInbound(sandbox.inboundUrl, '{"from":'), 400, 21);
      expectError(await postInbound(sandbox.inboundUrl, '["from"]'), 400, 21);
      expectError(await postInbound(sandbox.inboundUrl, { text: 'who am I' }), 422, 9, 'from');
      expectError(await postInbound(sandbox.inboundUrl, { from: phone() }), 422, 9, 'text');
      expectError(await postInbound(sandbox.inboundUrl, { from: phone(), txt: 'typo' }), 422, 10, 'txt');
      expectError(await postInbound(sandbox.inboundUrl, {}, {}, 'GET'), 405);
      expect(await totalConversations(api)).toBe(before);
    });

    it('checks the channel secret when one is set', async () => {
      const guarded = await createSandboxChannel(api, { secret: 'sandbox-secret-1' }, 'guarded');
      expect(JSON.stringify(guarded)).not.toContain('sandbox-secret-1');
      const from = phone();
      expectError(await postInbound(guarded.inboundUrl, { from, text: 'x' }), 401);
      expectError(await postInbound(guarded.inboundUrl, { from, text: 'x' }, { 'x-roost-sandbox-secret': 'wrong' }), 401);
      expect(await conversationsOf(api, from)).toHaveLength(0);
      const ok = await postInbound(guarded.inboundUrl, { from, text: 'x' }, { 'x-roost-sandbox-secret': 'sandbox-secret-1' });
      expect(ok.status, ok.text).toBe(200);
      expect(await conversationsOf(api, from)).toHaveLength(1);
    });
  });

  describe('outbound', () => {
    it('answers /v1/send with 202 in both SDK shapes, then moves accepted -> sent -> delivered by itself', async () => {
      const to = phone();
      const res = await api('POST', '/v1/send', { from: sandbox.id, to, type: 'text', content: { text: 'ping' } });
      expect(res.status, res.text).toBe(202);
      expect(res.json).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        status: 'accepted',
        fallback: null,
        message: { id: res.json.id, status: 'accepted' },
      });

      const seen: string[] = [];
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        const m = await api('GET', `/v1/messages/${res.json.id}`);
        expect(m.status).toBe(200);
        if (seen[seen.length - 1] !== m.json.status) seen.push(m.json.status);
        if (m.json.status === 'delivered' || m.json.status === 'failed') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen).toEqual(['accepted', 'sent', 'delivered']);

      const m = await api('GET', `/v1/messages/${res.json.id}`);
      expect(m.json).toMatchObject({ direction: 'sent', platform: 'sandbox', channelId: sandbox.id, from: SANDBOX_NUMBER, to, content: { text: 'ping' } });
      const [conv] = await conversationsOf(api, to);
      expect(conv.id).toBe(m.json.conversationId);
      expect(conv.lastReceivedDatetime).toBeNull();
    });

    it('fails a message whose text is FAIL, with an error', async () => {
      const res = await api('POST', '/v1/send', { from: sandbox.id, to: phone(), type: 'text', content: { text: 'FAIL' } });
      expect(res.status, res.text).toBe(202);
      const failed = await waitForStatus(api, res.json.id, 'failed');
      expect(failed.error).toEqual({ code: expect.any(Number), description: expect.any(String) });
    });

    it('applies status updates posted to the inbound URL, forward only', async () => {
      const res = await api('POST', '/v1/send', { from: sandbox.id, to: phone(), type: 'text', content: { text: 'status me' } });
      expect(res.status).toBe(202);
      await waitForStatus(api, res.json.id, 'delivered');
      const up = await postInbound(sandbox.inboundUrl, { messageId: res.json.id, status: 'read' });
      expect(up.status, up.text).toBe(200);
      expect((await api('GET', `/v1/messages/${res.json.id}`)).json.status).toBe('read');
      const back = await postInbound(sandbox.inboundUrl, { messageId: res.json.id, status: 'sent' });
      expect(back.status).toBe(200);
      expect((await api('GET', `/v1/messages/${res.json.id}`)).json.status).toBe('read');
    });

    it('starts a conversation with 201 and reuses the active one for the same number', async () => {
      const to = phone();
      const first = await api('POST', '/v1/conversations/start', { channelId: sandbox.id, to, type: 'text', content: { text: 'hello' } });
      expect(first.status, first.text).toBe(201);
      expect(first.json).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        contactId: expect.any(String),
        contact: { msisdn: msisdnOf(to) },
        channels: [{ id: sandbox.id }],
        status: 'active',
        lastUsedChannelId: sandbox.id,
        messages: { totalCount: 1, href: `${roost.url}/v1/conversations/${first.json.id}/messages` },
        createdDatetime: expect.stringMatching(ISO_DATETIME),
      });

      // The same number written differently (MSISDN digits, as a JSON number) is the same recipient.
      const second = await api('POST', '/v1/conversations/start', { channelId: sandbox.id, to: msisdnOf(to), type: 'text', content: { text: 'again' } });
      expect(second.status, second.text).toBe(201);
      expect(second.json.id).toBe(first.json.id);
      expect(second.json.contactId).toBe(first.json.contactId);
      expect(second.json.messages.totalCount).toBe(2);
      expect(await conversationsOf(api, to)).toHaveLength(1);

      const msgs = await messagesOf(api, first.json.id);
      expect(msgs.items.map((m: Json) => m.content.text)).toEqual(['again', 'hello']);
      expect(msgs.items.every((m: Json) => m.direction === 'sent' && m.to === to)).toBe(true);
    });

    it('replies into a conversation with 201 on its last used channel', async () => {
      const from = phone();
      expect((await postInbound(sandbox.inboundUrl, { from, text: 'question' })).status).toBe(200);
      const [conv] = await conversationsOf(api, from);
      const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'answer' } });
      expect(reply.status, reply.text).toBe(201);
      expect(reply.json).toMatchObject({ conversationId: conv.id, channelId: sandbox.id, direction: 'sent', status: 'accepted', to: from });
      await waitForStatus(api, reply.json.id, 'delivered');
    });
  });
});
