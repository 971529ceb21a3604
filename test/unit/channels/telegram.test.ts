import { describe, expect, it } from 'vitest';
import { telegramConnector } from '../../../src/channels/telegram/telegram-connector.js';
import type { MessageContent, MessageType } from '../../../src/domain/content.js';
import type { Channel, Message } from '../../../src/domain/records.js';
import type { HttpClient } from '../../../src/net/http-client.js';
import { startFakeTelegram, telegramError, telegramFixture, telegramUpdate } from '../../helpers/fake-telegram.js';
import {
  channelBuilder, closedPort, contextFor, inboundRequest, outboundMessage, rejected, thrown, useFakeProvider, withStrictHttpClient,
} from './builders.js';
import type { RequestOptions } from './builders.js';

// ---- builders (shared ones in ./builders.ts) --------------------------------------------

const BOT_TOKEN = '7012345678:AAE-test_Token-0123456789abcdef';
const SECRET_TOKEN = 'tg-secret_0001';

const channel = channelBuilder('telegram', {
  settings: { baseUrl: 'https://api.telegram.org', registerWebhook: true },
  secrets: { botToken: BOT_TOKEN, secretToken: SECRET_TOKEN },
});

/** Telegram never calls back about a sent message: no callback token verifies. */
const ctxFor = (ch: Channel) => contextFor(ch, { tokens: 'never' });

const request = (body: unknown, opts: RequestOptions = {}) => inboundRequest('https://roost.example/inbound/x', body, opts);

const message = (ch: Channel, type: MessageType, content: MessageContent, to = '481516234') =>
  outboundMessage(ch, type, content, { from: '7012345678', to });

// ---- settings ---------------------------------------------------------------------------

describe('telegram parseSettings', () => {
  it('splits public settings from secrets and keeps a given secret token', () => {
    const out = telegramConnector.parseSettings({ botToken: BOT_TOKEN, secretToken: SECRET_TOKEN });
    expect(out.settings).toEqual({ baseUrl: 'https://api.telegram.org', registerWebhook: true });
    expect(out.secrets).toEqual({ botToken: BOT_TOKEN, secretToken: SECRET_TOKEN });
    const serialised = JSON.stringify(out.settings);
    for (const secret of [BOT_TOKEN, SECRET_TOKEN]) expect(serialised).not.toContain(secret);
  });

  it('generates a secret token in setWebhook format when none is given, a different one each time', () => {
    const a = telegramConnector.parseSettings({ botToken: BOT_TOKEN });
    const b = telegramConnector.parseSettings({ botToken: BOT_TOKEN });
    expect(a.secrets.secretToken).toMatch(/^[A-Za-z0-9_-]{32,256}$/);
    expect(b.secrets.secretToken).toMatch(/^[A-Za-z0-9_-]{32,256}$/);
    expect(a.secrets.secretToken).not.toBe(b.secrets.secretToken);
  });

  it('requires the secret token when the webhook is not registered by Roost', () => {
    const err = thrown(() => telegramConnector.parseSettings({ botToken: BOT_TOKEN, registerWebhook: false }));
    expect(err.kind).toBe('missing_parameter');
    expect(err.parameter).toBe('settings.secretToken');
    const ok = telegramConnector.parseSettings({ botToken: BOT_TOKEN, registerWebhook: false, secretToken: 'mine' });
    expect(ok).toEqual({ settings: { baseUrl: 'https://api.telegram.org', registerWebhook: false }, secrets: { botToken: BOT_TOKEN, secretToken: 'mine' } });
  });

  it('requires a well-formed bot token (it becomes part of every API path)', () => {
    expect(thrown(() => telegramConnector.parseSettings({})).parameter).toBe('settings.botToken');
    expect(thrown(() => telegramConnector.parseSettings({})).kind).toBe('missing_parameter');
    for (const botToken of ['no-colon', '123:abc/../../x', 'abc:def', '123:', '123:a b', 42, `1:${'a'.repeat(257)}`]) {
      const err = thrown(() => telegramConnector.parseSettings({ botToken }));
      expect(err.kind, String(botToken)).toBe('invalid_parameter');
      expect(err.parameter).toBe('settings.botToken');
    }
  });

  it('refuses secret tokens Telegram would refuse, bad baseUrls, non-boolean registerWebhook and unknown keys', () => {
    for (const secretToken of ['has space', 'semi;colon', 'a'.repeat(257), 7]) {
      expect(thrown(() => telegramConnector.parseSettings({ botToken: BOT_TOKEN, secretToken })).parameter).toBe('settings.secretToken');
    }
    expect(telegramConnector.parseSettings({ botToken: BOT_TOKEN, secretToken: 'a'.repeat(256) }).secrets.secretToken).toHaveLength(256);
    for (const baseUrl of ['ftp://api.telegram.org', 'nope', 42, 'https://api.telegram.org/?x=1', 'https://u:p@api.telegram.org']) {
      expect(thrown(() => telegramConnector.parseSettings({ botToken: BOT_TOKEN, baseUrl })).parameter).toBe('settings.baseUrl');
    }
    expect(thrown(() => telegramConnector.parseSettings({ botToken: BOT_TOKEN, registerWebhook: 'yes' })).parameter).toBe('settings.registerWebhook');
    const unknown = thrown(() => telegramConnector.parseSettings({ botToken: BOT_TOKEN, token: 'x' }));
    expect(unknown.kind).toBe('invalid_parameter');
    expect(unknown.parameter).toBe('settings.token');
  });

  it('strips trailing slashes from baseUrl', () => {
    expect(telegramConnector.parseSettings({ botToken: BOT_TOKEN, baseUrl: 'http://127.0.0.1:8081/tg/' }).settings.baseUrl).toBe('http://127.0.0.1:8081/tg');
  });

  it('keeps unnamed values on PATCH, and issues a fresh secret token for null', () => {
    const previous = telegramConnector.parseSettings({ botToken: BOT_TOKEN, baseUrl: 'http://localhost:9/' });
    const renamed = telegramConnector.parseSettings({ registerWebhook: true }, previous);
    expect(renamed).toEqual({ settings: { baseUrl: 'http://localhost:9', registerWebhook: true }, secrets: previous.secrets });

    const rotated = telegramConnector.parseSettings({ secretToken: null }, previous);
    expect(rotated.secrets.botToken).toBe(BOT_TOKEN);
    expect(rotated.secrets.secretToken).not.toBe(previous.secrets.secretToken);

    const off = telegramConnector.parseSettings({ registerWebhook: false }, previous);
    expect(off.secrets.secretToken).toBe(previous.secrets.secretToken);
    expect(thrown(() => telegramConnector.parseSettings({ botToken: null }, previous)).parameter).toBe('settings.botToken');
  });
});

// ---- verify -----------------------------------------------------------------------------

describe('telegram verify', () => {
  const ctx = ctxFor(channel());
  const body = telegramFixture('message-text');

  it('accepts the configured X-Telegram-Bot-Api-Secret-Token', () => {
    expect(telegramConnector.verify(request(body, { headers: { 'x-telegram-bot-api-secret-token': SECRET_TOKEN } }), ctx)).toEqual({ ok: true });
  });

  it('refuses a wrong, truncated, extended or missing secret with 401', () => {
    for (const header of ['tg-secret_0002', 'tg-secret', `${SECRET_TOKEN}x`, '']) {
      expect(telegramConnector.verify(request(body, { headers: { 'x-telegram-bot-api-secret-token': header } }), ctx)).toMatchObject({ ok: false, status: 401 });
    }
    expect(telegramConnector.verify(request(body), ctx)).toEqual({ ok: false, status: 401, reason: 'missing x-telegram-bot-api-secret-token header' });
  });

  it('refuses everything on a channel without a secret token', () => {
    const bare = ctxFor(channel({}, { secretToken: '' }));
    expect(telegramConnector.verify(request(body, { headers: { 'x-telegram-bot-api-secret-token': '' } }), bare)).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses methods other than POST', () => {
    expect(telegramConnector.verify(request('', { method: 'GET' }), ctx)).toMatchObject({ ok: false, status: 405 });
  });
});

// ---- parse ------------------------------------------------------------------------------

describe('telegram parse', () => {
  const ch = channel();
  const ctx = ctxFor(ch);
  const parse = (body: unknown) => telegramConnector.parse(request(body), ctx);

  it('parses a private text message', () => {
    const parsed = parse(telegramFixture('message-text'));
    expect(parsed.response).toBeUndefined();
    expect(parsed.items).toEqual([
      {
        kind: 'message',
        providerMessageId: '481516234:17',
        contact: { key: 'telegram', value: '481516234' },
        contactName: 'Ada Lovelace',
        from: '481516234',
        to: '7012345678',
        type: 'text',
        content: { text: 'Hello, is anyone there?' },
      },
    ]);
  });

  it('keeps the largest photo size, with its caption, as a token-free tg:// file reference', () => {
    const [item] = parse(telegramFixture('message-photo-caption')).items;
    expect(item).toMatchObject({
      providerMessageId: '481516234:18',
      type: 'image',
      content: { image: { url: 'tg://file/AgACAgQAAxkBAAMSZmZlarge-1280', caption: 'The broken part' } },
    });
    expect(JSON.stringify(item)).not.toContain(BOT_TOKEN);
  });

  it.each([
    ['message-document', 'file', 'tg://file/BQACAgQAAxkBAAMTZmZdocument', undefined],
    ['message-voice', 'audio', 'tg://file/AwACAgQAAxkBAAMUZmZvoice', undefined],
    ['message-video', 'video', 'tg://file/BAACAgQAAxkBAAMVZmZvideo', 'It makes this noise'],
  ])('maps %s to %s', (fixture, type, url, caption) => {
    const [item] = parse(telegramFixture(fixture)).items;
    const media = caption === undefined ? { url } : { url, caption };
    expect(item).toMatchObject({ kind: 'message', type, content: { [type]: media } });
    expect((item as { content: Record<string, Record<string, unknown>> }).content[type]).toEqual(media);
  });

  it('maps audio, video notes and animations (which come with a document copy)', () => {
    const audio = parse(telegramUpdate('message-document', { patch: { document: undefined, audio: { file_id: 'CQAud', duration: 3 } } }));
    expect(audio.items[0]).toMatchObject({ type: 'audio', content: { audio: { url: 'tg://file/CQAud' } } });
    const note = parse(telegramUpdate('message-document', { patch: { document: undefined, video_note: { file_id: 'DQNote', length: 240 } } }));
    expect(note.items[0]).toMatchObject({ type: 'video', content: { video: { url: 'tg://file/DQNote' } } });
    const gif = parse(telegramUpdate('message-document', { patch: { animation: { file_id: 'CgAnim' }, caption: 'lol' } }));
    expect(gif.items[0]).toMatchObject({ type: 'video', content: { video: { url: 'tg://file/CgAnim', caption: 'lol' } } });
  });

  it('parses a location', () => {
    expect(parse(telegramFixture('message-location')).items).toEqual([
      expect.objectContaining({ providerMessageId: '481516234:22', type: 'location', content: { location: { latitude: 52.370216, longitude: 4.895168 } } }),
    ]);
  });

  it('stores an edit as a new message with its own id, and a retried update with the same ids', () => {
    const original = parse(telegramFixture('message-text')).items[0]!;
    const edit = parse(telegramFixture('edited-message-text')).items;
    expect(edit).toEqual([
      expect.objectContaining({
        providerMessageId: '481516234:17:edit:1718000400',
        contact: { key: 'telegram', value: '481516234' },
        type: 'text',
        content: { text: 'Hello, is anyone there? (order #1234)' },
      }),
    ]);
    expect(original.providerMessageId).not.toBe(edit[0]!.providerMessageId);
    expect(parse(telegramFixture('edited-message-text')).items).toEqual(edit);
    expect(parse(telegramFixture('message-text')).items).toEqual([original]);
  });

  it('ignores live-location edits', () => {
    expect(parse(telegramFixture('edited-message-live-location')).items).toEqual([]);
  });

  it('keys a group on the group chat, named after its title', () => {
    expect(parse(telegramFixture('group-message-text')).items).toEqual([
      expect.objectContaining({
        providerMessageId: '-1001987654321:305',
        contact: { key: 'telegram', value: '-1001987654321' },
        contactName: 'Analytical Engine owners',
        from: '-1001987654321',
      }),
    ]);
  });

  it('names a contact by username when it has no name, and omits the name when there is none', () => {
    const byUsername = telegramUpdate('message-text', { patch: { chat: { id: 5, type: 'private', username: 'grace_h' }, from: { id: 5, is_bot: false, first_name: '' } } });
    expect(parse(byUsername).items[0]).toMatchObject({ contactName: 'grace_h' });
    const nameless = telegramUpdate('message-text', { patch: { chat: { id: 6, type: 'private' }, from: undefined } });
    expect(parse(nameless).items[0]).not.toHaveProperty('contactName');
  });

  it('acknowledges and drops stickers, callback queries and other update kinds', () => {
    expect(parse(telegramFixture('message-sticker')).items).toEqual([]);
    expect(parse(telegramFixture('callback-query')).items).toEqual([]);
    expect(parse({ update_id: 1, my_chat_member: { chat: { id: 1 } } }).items).toEqual([]);
    expect(parse({ update_id: 2, channel_post: { message_id: 1, chat: { id: -100, type: 'channel' }, text: 'x' } }).items).toEqual([]);
  });

  it.each([
    ['not JSON', '{"update_id": '],
    ['a JSON array', '[]'],
    ['no update_id', { message: telegramFixture('message-text').message }],
    ['a negative update_id', { update_id: -1, message: telegramFixture('message-text').message }],
    ['a message that is not an object', { update_id: 1, message: 'hi' }],
    ['a message without chat', telegramUpdate('message-text', { patch: { chat: undefined } })],
    ['a chat id that is not an integer', telegramUpdate('message-text', { patch: { chat: { id: '481516234' } } })],
    ['a message without message_id', telegramUpdate('message-text', { patch: { message_id: undefined } })],
    ['a non-string text', telegramUpdate('message-text', { patch: { text: 5 } })],
    ['an empty photo array', telegramUpdate('message-photo-caption', { patch: { photo: [] } })],
    ['a photo without file_id', telegramUpdate('message-photo-caption', { patch: { photo: [{ width: 1 }] } })],
    ['a document without file_id', telegramUpdate('message-document', { patch: { document: {} } })],
    ['a location out of range', telegramUpdate('message-location', { patch: { location: { latitude: 91, longitude: 0 } } })],
    ['an edit without edit_date', telegramUpdate('edited-message-text', { patch: { edit_date: undefined } })],
  ])('refuses an update with %s as bad_request', (_what, body) => {
    expect(thrown(() => parse(body)).kind).toBe('bad_request');
  });
});

// ---- identifiers ------------------------------------------------------------------------

describe('telegram addresses', () => {
  it('identifies chat ids only', () => {
    expect(telegramConnector.identifierFor('481516234')).toEqual({ key: 'telegram', value: '481516234' });
    expect(telegramConnector.identifierFor('-1001987654321')).toEqual({ key: 'telegram', value: '-1001987654321' });
    expect(telegramConnector.identifierFor('+31612345678')).toBeUndefined();
    expect(telegramConnector.identifierFor('@ada_l')).toBeUndefined();
    expect(telegramConnector.identifierFor('12345678901234567890')).toBeUndefined();
  });

  it('sends from the bot id, never the token', () => {
    expect(telegramConnector.ownAddress(channel())).toBe('7012345678');
  });
});

// ---- send and register ------------------------------------------------------------------

describe('telegram send', () => {
  const { fake, http } = useFakeProvider(startFakeTelegram);

  const send = (ch: Channel, msg: Message, client: HttpClient = http) => telegramConnector.send({ message: msg, channel: ch, ctx: ctxFor(ch) }, client);

  it('posts a text message to sendMessage with a numeric chat_id and reports it sent', async () => {
    const ch = channel({ baseUrl: fake.url });
    const outcome = await send(ch, message(ch, 'text', { text: 'Hi Ada, how can we help?' }));
    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe(`/bot${BOT_TOKEN}/sendMessage`);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.body).toEqual({ chat_id: 481516234, text: 'Hi Ada, how can we help?' });
    expect(outcome).toEqual({ kind: 'accepted', providerMessageId: '481516234:101', status: 'sent' });
  });

  it('reads the recorded sendMessage answer', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 200, json: telegramFixture('send-message-ok') }));
    expect(await send(ch, message(ch, 'text', { text: 'Hi Ada, how can we help?' }))).toEqual({ kind: 'accepted', providerMessageId: '481516234:25', status: 'sent' });
  });

  it.each([
    ['image', { image: { url: 'https://example.com/cat.png', caption: 'A cat' } }, 'sendPhoto', { photo: 'https://example.com/cat.png', caption: 'A cat' }],
    ['video', { video: { url: 'https://example.com/clip.mp4' } }, 'sendVideo', { video: 'https://example.com/clip.mp4' }],
    ['audio', { audio: { url: 'https://example.com/a.mp3', caption: '' } }, 'sendAudio', { audio: 'https://example.com/a.mp3' }],
    ['file', { file: { url: 'https://example.com/doc.pdf', caption: 'Invoice' } }, 'sendDocument', { document: 'https://example.com/doc.pdf', caption: 'Invoice' }],
    ['location', { location: { latitude: 52.37, longitude: 4.89 } }, 'sendLocation', { latitude: 52.37, longitude: 4.89 }],
  ] as const)('sends %s through %s', async (type, content, apiMethod, fields) => {
    const ch = channel({ baseUrl: fake.url });
    const outcome = await send(ch, message(ch, type, content as MessageContent));
    expect(outcome).toMatchObject({ kind: 'accepted', status: 'sent' });
    expect(fake.requests[0]!.path).toBe(`/bot${BOT_TOKEN}/${apiMethod}`);
    expect(fake.requests[0]!.body).toEqual({ chat_id: 481516234, ...fields });
  });

  it('sends to a negative group id and a @username as given', async () => {
    const ch = channel({ baseUrl: fake.url });
    await send(ch, message(ch, 'text', { text: 'hi group' }, '-1001987654321'));
    await send(ch, message(ch, 'text', { text: 'hi channel' }, '@roost_news'));
    expect(fake.requests[0]!.body).toMatchObject({ chat_id: -1001987654321 });
    expect(fake.requests[1]!.body).toMatchObject({ chat_id: '@roost_news' });
  });

  it('keeps a path prefix of baseUrl', async () => {
    const ch = channel({ baseUrl: `${fake.url}/proxy` });
    await send(ch, message(ch, 'text', { text: 'hi' }));
    expect(fake.requests[0]!.path).toBe(`/proxy/bot${BOT_TOKEN}/sendMessage`);
  });

  it('fails without calling Telegram for hsm messages and a channel without token', async () => {
    const ch = channel({ baseUrl: fake.url });
    expect(await send(ch, message(ch, 'hsm', { hsm: { templateName: 't' } }))).toMatchObject({ kind: 'failed', error: { code: 0 } });
    const bare = channel({ baseUrl: fake.url }, { botToken: '' });
    expect(await send(bare, message(bare, 'text', { text: 'hi' }))).toMatchObject({ kind: 'failed', error: { code: 0 } });
    expect(fake.requests).toHaveLength(0);
  });

  it('fails with Telegram\'s error_code and description on 403, 400 and 401', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 403, json: telegramFixture('error-blocked') }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 403, description: 'Forbidden: bot was blocked by the user' } });
    fake.respondWith(() => telegramError(400, 'Bad Request: chat not found'));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 400, description: 'Bad Request: chat not found' } });
    fake.respondWith(() => telegramError(401, 'Unauthorized'));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 401, description: 'Unauthorized' } });
  });

  it('retries 429 after parameters.retry_after', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 429, json: telegramFixture('error-too-many-requests') }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({
      kind: 'retry',
      error: { code: 429, description: 'Too Many Requests: retry after 3' },
      retryAfterMs: 3000,
    });
  });

  it('retries 5xx answers, JSON or not', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => telegramError(500, 'Internal Server Error'));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'retry', error: { code: 500, description: 'Internal Server Error' } });
    fake.respondWith(() => ({ status: 502 }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'retry', error: { code: 502, description: 'Telegram answered 502' } });
  });

  it('retries an ok answer without a message_id', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 200, json: { ok: true, result: true } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toMatchObject({ kind: 'retry', error: { code: 0 } });
  });

  it('retries when nothing listens, without the token in the error', async () => {
    const ch = channel({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    const outcome = await send(ch, message(ch, 'text', { text: 'hi' }));
    expect(outcome).toMatchObject({ kind: 'retry', error: { code: 0 } });
    expect(JSON.stringify(outcome)).not.toContain(BOT_TOKEN);
  });

  it('fails for good when the base URL is a refused private address', async () => {
    await withStrictHttpClient(async (strict) => {
      const ch = channel({ baseUrl: fake.url });
      const outcome = await send(ch, message(ch, 'text', { text: 'hi' }), strict);
      expect(outcome).toMatchObject({ kind: 'failed', error: { code: 0 } });
      expect(fake.requests).toHaveLength(0);
    });
  });
});

describe('telegram register (setWebhook)', () => {
  const { fake, http } = useFakeProvider(startFakeTelegram);

  it('sets the webhook to the inbound URL with the secret token and the update kinds Roost reads', async () => {
    const ch = channel({ baseUrl: fake.url });
    await telegramConnector.register!(ctxFor(ch), http);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({ method: 'POST', path: `/bot${BOT_TOKEN}/setWebhook`, token: BOT_TOKEN, apiMethod: 'setWebhook' });
    expect(fake.requests[0]!.body).toEqual({
      url: `https://roost.example/inbound/${ch.id}`,
      secret_token: SECRET_TOKEN,
      allowed_updates: ['message', 'edited_message'],
    });
  });

  it('does nothing with registerWebhook false', async () => {
    await telegramConnector.register!(ctxFor(channel({ baseUrl: fake.url, registerWebhook: false })), http);
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses the channel with Telegram's description when Telegram refuses", async () => {
    fake.respondWith(() => ({ status: 401, json: telegramFixture('set-webhook-unauthorized') }));
    const err = await rejected(telegramConnector.register!(ctxFor(channel({ baseUrl: fake.url })), http));
    expect(err).toMatchObject({ kind: 'invalid_parameter', parameter: 'settings.botToken', message: 'Telegram refused setWebhook: Unauthorized' });

    fake.respondWith(() => telegramError(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook'));
    const bad = await rejected(telegramConnector.register!(ctxFor(channel({ baseUrl: fake.url })), http));
    expect(bad.message).toContain('An HTTPS URL must be provided for webhook');
  });

  it('refuses the channel with a clear message when Telegram cannot be reached, without leaking the token', async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}`;
    const err = await rejected(telegramConnector.register!(ctxFor(channel({ baseUrl })), http));
    expect(err.kind).toBe('invalid_parameter');
    expect(err.parameter).toBe('settings.baseUrl');
    expect(err.message).toContain(`could not reach the Telegram Bot API at ${baseUrl}`);
    expect(err.message).not.toContain(BOT_TOKEN);
  });

  it('refuses a base URL that does not answer like the Bot API', async () => {
    fake.respondWith(() => ({ status: 404, json: undefined }));
    const err = await rejected(telegramConnector.register!(ctxFor(channel({ baseUrl: fake.url })), http));
    expect(err).toMatchObject({ kind: 'invalid_parameter', parameter: 'settings.baseUrl' });
  });
});
