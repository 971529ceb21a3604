import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTelegram, telegramError, telegramFixture, telegramUpdate } from '../helpers/fake-telegram.js';
import type { FakeTelegram } from '../helpers/fake-telegram.js';
import {
  ISO_DATETIME, countEvents, expectError, listAll, messagesOf, postInbound, providerIdOf, queryDb, queryOne, sleep,
  totalConversations, updatedStatusesOf, waitForStatus,
} from '../helpers/e2e-fixtures.js';
import type { Api, ChannelView, Json } from '../helpers/e2e-fixtures.js';
import { apiClient, eventually, freePort, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';

const BOT_TOKEN = '7012345678:AAE-e2e_Token-0123456789abcdef';
const BOT_ID = '7012345678';
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

describe('telegram channel (end to end)', () => {
  let roost: RoostProcess;
  let fake: FakeTelegram;
  let api: Api;
  let tg: ChannelView;
  /** The secret token Roost generated and handed to Telegram through setWebhook. */
  let secret: string;

  // Unique chat and update ids for this run, so nothing collides with other files.
  const base = randomInt(100_000_000, 900_000_000);
  let n = 0;
  const chat = () => base + ++n;
  let updates = randomInt(1, 1_000_000) * 1000;
  const updateId = () => ++updates;

  /** Posts an Update as Telegram does, with the channel's secret unless told otherwise. */
  const post = (update: unknown, token: string | null = secret, channel: ChannelView = tg) =>
    fake.postUpdate(channel.inboundUrl, update, token);

  /** The conversations of the contact keyed on a Telegram chat id, newest first. */
  async function conversationsOfChat(chatId: number): Promise<Json[]> {
    const row = await queryOne<{ id: string }>(roost, "SELECT contact_id AS id FROM contact_identifiers WHERE key = 'telegram' AND value = ?", [String(chatId)]);
    const contactId = row?.id;
    if (contactId === undefined) return [];
    return (await listAll(api, '/v1/conversations')).filter((c: Json) => c.contactId === contactId);
  }

  /** Writes in from a fresh chat and returns its conversation. */
  async function writeIn(chatId: number, text = 'Hello!'): Promise<Json> {
    const res = await post(telegramUpdate('message-text', { chatId, updateId: updateId(), messageId: 1, patch: { text } }));
    expect(res.status, res.body).toBe(200);
    const [conv] = await conversationsOfChat(chatId);
    expect(conv).toBeDefined();
    return conv;
  }

  beforeAll(async () => {
    fake = await startFakeTelegram();
    roost = await startRoost();
    api = apiClient(roost.url, roost.liveKey!);
    const res = await api('POST', '/v1/channels', { name: 'telegram support', platformId: 'telegram', settings: { botToken: BOT_TOKEN, baseUrl: fake.url } });
    expect(res.status, res.text).toBe(201);
    tg = res.json as ChannelView;
    const [setWebhook] = fake.calls('setWebhook');
    secret = (setWebhook!.body as { secret_token: string }).secret_token;
  });

  afterAll(async () => {
    await roost?.stop();
    await fake?.close();
    if (roost) await removeDataDir(roost.dataDir);
  });

  describe('channel management', () => {
    const expectNoSecrets = (body: unknown) => {
      const text = JSON.stringify(body);
      expect(text).not.toContain(BOT_TOKEN);
      expect(text).not.toContain(secret);
      for (const k of ['botToken', 'secretToken']) expect(text).not.toContain(`"${k}"`);
    };

    it('creates the channel after setWebhook pointed Telegram at its inbound URL with a fresh secret token', async () => {
      expect(tg).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        name: 'telegram support',
        platformId: 'telegram',
        status: 'active',
        settings: { baseUrl: fake.url, registerWebhook: true },
        inboundUrl: `${roost.url}/inbound/${tg.id}`,
        createdDatetime: expect.stringMatching(ISO_DATETIME),
      });
      expect(Object.keys(tg.settings).sort()).toEqual(['baseUrl', 'registerWebhook']);
      expectNoSecrets(tg);

      const calls = fake.calls('setWebhook');
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ method: 'POST', path: `/bot${BOT_TOKEN}/setWebhook`, headers: { 'content-type': 'application/json' } });
      expect(calls[0]!.body).toEqual({ url: tg.inboundUrl, secret_token: secret, allowed_updates: ['message', 'edited_message'] });
      expect(secret).toMatch(/^[A-Za-z0-9_-]{32,256}$/);

      const one = await api('GET', `/v1/channels/${tg.id}`);
      expect(one.status).toBe(200);
      expectNoSecrets(one.json);
      expectNoSecrets((await api('GET', '/v1/channels?limit=100')).json);
    });

    it('does not create a channel Telegram refuses, and says why', async () => {
      const before = await listAll(api, '/v1/channels');
      fake.queue({ status: 401, json: telegramFixture('set-webhook-unauthorized') });
      const res = await api('POST', '/v1/channels', { name: 'refused bot', platformId: 'telegram', settings: { botToken: '1:wrong-token', baseUrl: fake.url } });
      expectError(res, 422, 10, 'settings.botToken');
      expect(res.json.errors[0].description).toBe('Telegram refused setWebhook: Unauthorized');
      expect(fake.calls('setWebhook').at(-1)!.path).toBe('/bot1:wrong-token/setWebhook');
      const after = await listAll(api, '/v1/channels');
      expect(after.map((c: Json) => c.id)).toEqual(before.map((c: Json) => c.id));
      expect(after.some((c: Json) => c.name === 'refused bot')).toBe(false);
    });

    it('does not create a channel when Telegram cannot be reached', async () => {
      const before = (await listAll(api, '/v1/channels')).length;
      const res = await api('POST', '/v1/channels', { name: 'unreachable', platformId: 'telegram', settings: { botToken: BOT_TOKEN, baseUrl: `http://127.0.0.1:${await freePort()}` } });
      expectError(res, 422, 10, 'settings.baseUrl');
      expect(res.json.errors[0].description).toContain('could not reach the Telegram Bot API');
      expect(res.text).not.toContain(BOT_TOKEN);
      expect((await listAll(api, '/v1/channels')).length).toBe(before);
    });

    it('refuses invalid settings before calling Telegram', async () => {
      const calls = fake.requests.length;
      expectError(await api('POST', '/v1/channels', { platformId: 'telegram', settings: {} }), 422, 9, 'settings.botToken');
      expectError(await api('POST', '/v1/channels', { platformId: 'telegram', settings: { botToken: '1:a/../b' } }), 422, 10, 'settings.botToken');
      expectError(await api('POST', '/v1/channels', { platformId: 'telegram', settings: { botToken: BOT_TOKEN, secretToken: 'no spaces allowed' } }), 422, 10, 'settings.secretToken');
      expectError(await api('POST', '/v1/channels', { platformId: 'telegram', settings: { botToken: BOT_TOKEN, registerWebhook: false } }), 422, 9, 'settings.secretToken');
      expect(fake.requests.length).toBe(calls);
    });

    it('skips setWebhook with registerWebhook false, and checks the operator-chosen secret', async () => {
      const calls = fake.calls('setWebhook').length;
      const res = await api('POST', '/v1/channels', {
        name: 'manual webhook', platformId: 'telegram',
        settings: { botToken: BOT_TOKEN, baseUrl: fake.url, registerWebhook: false, secretToken: 'operator_chosen-secret' },
      });
      expect(res.status, res.text).toBe(201);
      expect(fake.calls('setWebhook')).toHaveLength(calls);
      const chatId = chat();
      expectError(await postInbound(res.json.inboundUrl, telegramUpdate('message-text', { chatId, updateId: updateId() }), { [SECRET_HEADER]: secret }), 401);
      const ok = await post(telegramUpdate('message-text', { chatId, updateId: updateId() }), 'operator_chosen-secret', res.json);
      expect(ok.status, ok.body).toBe(200);
    });

    it('calls setWebhook again when settings change, and keeps the channel as it was when Telegram refuses', async () => {
      const created = await api('POST', '/v1/channels', { name: 'rotating', platformId: 'telegram', settings: { botToken: BOT_TOKEN, baseUrl: fake.url, secretToken: 'first_secret' } });
      expect(created.status, created.text).toBe(201);
      const ch = created.json as ChannelView;

      const patched = await api('PATCH', `/v1/channels/${ch.id}`, { settings: { secretToken: 'second_secret' } });
      expect(patched.status, patched.text).toBe(200);
      expect(fake.calls('setWebhook').at(-1)!.body).toEqual({ url: ch.inboundUrl, secret_token: 'second_secret', allowed_updates: ['message', 'edited_message'] });
      expectError(await postInbound(ch.inboundUrl, telegramUpdate('message-text', { chatId: chat(), updateId: updateId() }), { [SECRET_HEADER]: 'first_secret' }), 401);
      expect((await post(telegramUpdate('message-text', { chatId: chat(), updateId: updateId() }), 'second_secret', ch)).status).toBe(200);

      fake.queue(telegramError(400, 'Bad Request: bad webhook: Failed to resolve host'));
      const refused = await api('PATCH', `/v1/channels/${ch.id}`, { settings: { secretToken: 'third_secret' } });
      expectError(refused, 422, 10, 'settings.botToken');
      expect(refused.json.errors[0].description).toContain('bad webhook: Failed to resolve host');
      expect((await post(telegramUpdate('message-text', { chatId: chat(), updateId: updateId() }), 'second_secret', ch)).status).toBe(200);
      expectError(await postInbound(ch.inboundUrl, telegramUpdate('message-text', { chatId: chat(), updateId: updateId() }), { [SECRET_HEADER]: 'third_secret' }), 401);

      // A rename alone does not bother Telegram.
      const calls = fake.calls('setWebhook').length;
      expect((await api('PATCH', `/v1/channels/${ch.id}`, { name: 'renamed' })).status).toBe(200);
      expect(fake.calls('setWebhook')).toHaveLength(calls);
    });
  });

  describe('updates', () => {
    it('stores a text message in a conversation with a Telegram contact', async () => {
      const chatId = chat();
      const before = await countEvents(roost);
      const res = await post(telegramUpdate('message-text', { chatId, updateId: updateId() }));
      expect(res).toEqual({ status: 200, body: '{"status":"ok"}' });
      expect(await countEvents(roost)).toBeGreaterThan(before);

      const convs = await conversationsOfChat(chatId);
      expect(convs).toHaveLength(1);
      expect(convs[0]).toMatchObject({
        contact: { id: convs[0].contactId, msisdn: null, displayName: 'Ada Lovelace' },
        channels: [{ id: tg.id, platformId: 'telegram' }],
        status: 'active',
        lastUsedChannelId: tg.id,
        messages: { totalCount: 1 },
      });
      const msgs = await messagesOf(api, convs[0].id);
      expect(msgs.items[0]).toMatchObject({
        conversationId: convs[0].id,
        channelId: tg.id,
        platform: 'telegram',
        direction: 'received',
        status: 'received',
        from: String(chatId),
        to: BOT_ID,
        type: 'text',
        content: { text: 'Hello, is anyone there?' },
        createdDatetime: expect.stringMatching(ISO_DATETIME),
      });
    });

    it('stores photos, documents, voice, video and locations of one chat in one conversation', async () => {
      const chatId = chat();
      for (const name of ['message-photo-caption', 'message-document', 'message-voice', 'message-video', 'message-location']) {
        const res = await post(telegramUpdate(name, { chatId, updateId: updateId() }));
        expect(res.status, `${name}: ${res.body}`).toBe(200);
      }
      const [conv] = await conversationsOfChat(chatId);
      const msgs = await messagesOf(api, conv.id);
      expect(msgs.totalCount).toBe(5);
      expect(msgs.items.map((m: Json) => [m.type, m.content]).reverse()).toEqual([
        ['image', { image: { url: 'tg://file/AgACAgQAAxkBAAMSZmZlarge-1280', caption: 'The broken part' } }],
        ['file', { file: { url: 'tg://file/BQACAgQAAxkBAAMTZmZdocument' } }],
        ['audio', { audio: { url: 'tg://file/AwACAgQAAxkBAAMUZmZvoice' } }],
        ['video', { video: { url: 'tg://file/BAACAgQAAxkBAAMVZmZvideo', caption: 'It makes this noise' } }],
        ['location', { location: { latitude: 52.370216, longitude: 4.895168 } }],
      ]);
      expect(JSON.stringify(msgs)).not.toContain(BOT_TOKEN);
    });

    it('refuses a wrong or missing secret token with 401 and stores nothing', async () => {
      const chatId = chat();
      const update = telegramUpdate('message-text', { chatId, updateId: updateId() });
      const conversations = await totalConversations(api);
      const events = await countEvents(roost);
      expectError(await postInbound(tg.inboundUrl, update), 401);
      expectError(await postInbound(tg.inboundUrl, update, { [SECRET_HEADER]: 'not-the-secret' }), 401);
      expectError(await postInbound(tg.inboundUrl, update, { [SECRET_HEADER]: `${secret}x` }), 401);
      expectError(await postInbound(tg.inboundUrl, update, { [SECRET_HEADER]: secret.slice(1) }), 401);
      expect(await totalConversations(api)).toBe(conversations);
      expect(await conversationsOfChat(chatId)).toHaveLength(0);
      expect(await countEvents(roost)).toBe(events);
      await eventually(async () => roost.output().includes('inbound webhook refused')); // logs arrive asynchronously

      // The refused update was not remembered: Telegram's correctly signed retry is stored.
      expect((await post(update)).status).toBe(200);
      expect(await conversationsOfChat(chatId)).toHaveLength(1);
    });

    it('stores an update delivered twice, or five times at once, as one message', async () => {
      const chatId = chat();
      const update = telegramUpdate('message-text', { chatId, updateId: updateId(), patch: { text: 'twice' } });
      expect((await post(update)).status).toBe(200);
      expect((await post(update)).status).toBe(200);
      const raced = telegramUpdate('message-text', { chatId, updateId: updateId(), messageId: 99, patch: { text: 'race' } });
      const answers = await Promise.all(Array.from({ length: 5 }, () => post(raced)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      const convs = await conversationsOfChat(chatId);
      expect(convs).toHaveLength(1);
      expect((await messagesOf(api, convs[0].id)).items.map((m: Json) => m.content.text)).toEqual(['race', 'twice']);
    });

    it('stores an edit as a new message, once however often Telegram retries it', async () => {
      const chatId = chat();
      expect((await post(telegramUpdate('message-text', { chatId, updateId: updateId() }))).status).toBe(200);
      const edit = telegramUpdate('edited-message-text', { chatId, updateId: updateId() });
      expect((await post(edit)).status).toBe(200);
      expect((await post(edit)).status).toBe(200);
      const [conv] = await conversationsOfChat(chatId);
      const msgs = await messagesOf(api, conv.id);
      expect(msgs.items.map((m: Json) => m.content.text)).toEqual(['Hello, is anyone there? (order #1234)', 'Hello, is anyone there?']);
      const ids = (await queryDb<{ p: string }>(roost, 'SELECT provider_message_id AS p FROM messages WHERE conversation_id = ? ORDER BY id', [conv.id])).map((r) => r.p);
      expect(ids).toEqual([`${chatId}:17`, `${chatId}:17:edit:1718000400`]);
    });

    it('acknowledges updates it does not store', async () => {
      const events = await countEvents(roost);
      for (const name of ['callback-query', 'message-sticker', 'edited-message-live-location']) {
        const res = await post(telegramUpdate(name, { updateId: updateId() }));
        expect(res.status, name).toBe(200);
      }
      expect(await countEvents(roost)).toBe(events);
    });

    it('answers malformed updates with 400 and stores nothing', async () => {
      const events = await countEvents(roost);
      for (const body of ['{"update_id": ', '[]', '{"message": {}}', JSON.stringify(telegramUpdate('message-text', { patch: { chat: null } }))]) {
        const res = await post(body);
        expect(res.status, body).toBe(400);
      }
      expect(await countEvents(roost)).toBe(events);
    });

    it('refuses GET on the inbound URL', async () => {
      expectError(await postInbound(tg.inboundUrl, undefined, { [SECRET_HEADER]: secret }, 'GET'), 405);
    });
  });

  describe('replies', () => {
    it('sends a reply through sendMessage and marks it sent (Telegram has no receipts)', async () => {
      const chatId = chat();
      const conv = await writeIn(chatId, 'I need help');
      const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'How can we help?' } });
      expect(reply.status, reply.text).toBe(201);
      expect(reply.json).toMatchObject({ channelId: tg.id, platform: 'telegram', direction: 'sent', status: 'accepted', to: String(chatId), from: BOT_ID });

      await eventually(async () => fake.callsTo(chatId, 'sendMessage').length === 1);
      const [req] = fake.callsTo(chatId, 'sendMessage');
      expect(req).toMatchObject({ method: 'POST', path: `/bot${BOT_TOKEN}/sendMessage`, headers: { 'content-type': 'application/json' } });
      expect(req!.body).toEqual({ chat_id: chatId, text: 'How can we help?' });

      const sent = await waitForStatus(api, reply.json.id, 'sent');
      expect(sent.error).toBeUndefined();
      expect(await providerIdOf(roost, reply.json.id)).toBe(`${chatId}:101`);
      expect(await updatedStatusesOf(roost, conv.id, reply.json.id)).toEqual(['sent']);
    });

    it('sends media with a caption through sendPhoto, and a location through sendLocation', async () => {
      const chatId = chat();
      const conv = await writeIn(chatId);
      const photo = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'image', content: { image: { url: 'https://example.com/fix.png', caption: 'Try this' } } });
      expect(photo.status, photo.text).toBe(201);
      await waitForStatus(api, photo.json.id, 'sent');
      const loc = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'location', content: { location: { latitude: 52.37, longitude: 4.89 } } });
      expect(loc.status, loc.text).toBe(201);
      await waitForStatus(api, loc.json.id, 'sent');
      expect(fake.callsTo(chatId, 'sendPhoto').map((r) => r.body)).toEqual([{ chat_id: chatId, photo: 'https://example.com/fix.png', caption: 'Try this' }]);
      expect(fake.callsTo(chatId, 'sendLocation').map((r) => r.body)).toEqual([{ chat_id: chatId, latitude: 52.37, longitude: 4.89 }]);
    });

    it('sends to a chat id given to /v1/send', async () => {
      const chatId = chat();
      const res = await api('POST', '/v1/send', { from: tg.id, to: String(chatId), type: 'text', content: { text: 'proactive' } });
      expect(res.status, res.text).toBe(202);
      await waitForStatus(api, res.json.id, 'sent');
      expect(fake.callsTo(chatId, 'sendMessage')[0]!.body).toEqual({ chat_id: chatId, text: 'proactive' });
      expectError(await api('POST', '/v1/send', { from: tg.id, to: '+31612345678', type: 'text', content: { text: 'x' } }), 422, 10, 'to');
    });

    it("marks a reply failed with Telegram's error when the user blocked the bot, without retrying", async () => {
      const chatId = chat();
      const conv = await writeIn(chatId);
      fake.queueFor(chatId, { status: 403, json: telegramFixture('error-blocked') });
      const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'are you there?' } });
      expect(reply.status, reply.text).toBe(201);
      const failed = await waitForStatus(api, reply.json.id, 'failed');
      expect(failed.error).toEqual({ code: 403, description: 'Forbidden: bot was blocked by the user' });
      await sleep(300);
      expect(fake.callsTo(chatId, 'sendMessage')).toHaveLength(1);
    });

    it('retries after a 429 with retry_after, then marks it sent', async () => {
      const chatId = chat();
      const conv = await writeIn(chatId);
      fake.queueFor(chatId, telegramError(429, 'Too Many Requests: retry after 1', { retry_after: 1 }));
      const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'slowly' } });
      expect(reply.status, reply.text).toBe(201);
      await eventually(async () => fake.callsTo(chatId, 'sendMessage').length === 1);
      await sleep(200);
      expect((await api('GET', `/v1/messages/${reply.json.id}`)).json.status).toBe('accepted');
      await waitForStatus(api, reply.json.id, 'sent', 8_000);
      expect(fake.callsTo(chatId, 'sendMessage')).toHaveLength(2);
      expect(await providerIdOf(roost, reply.json.id)).toBe(`${chatId}:101`);
    });

    it('retries a 5xx from Telegram', async () => {
      const chatId = chat();
      const conv = await writeIn(chatId);
      fake.queueFor(chatId, { status: 502 });
      const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'again' } });
      expect(reply.status, reply.text).toBe(201);
      await waitForStatus(api, reply.json.id, 'sent', 8_000);
      expect(fake.callsTo(chatId, 'sendMessage')).toHaveLength(2);
    });
  });
});
