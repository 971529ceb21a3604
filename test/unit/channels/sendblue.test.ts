import { describe, expect, it } from 'vitest';
import type { StatusUpdate } from '../../../src/channels/connector.js';
import { sendblueConnector } from '../../../src/channels/sendblue/sendblue-connector.js';
import type { MessageContent, MessageType } from '../../../src/domain/content.js';
import { newId } from '../../../src/domain/ids.js';
import type { Channel, Message } from '../../../src/domain/records.js';
import type { HttpClient } from '../../../src/net/http-client.js';
import { sendblueInboundPayload, sendblueStatusPayload, startFakeSendblue } from '../../helpers/fake-sendblue.js';
import {
  channelBuilder, closedPort, contextFor, inboundRequest, outboundMessage, thrown, useFakeProvider, withStrictHttpClient,
} from './builders.js';
import type { RequestOptions } from './builders.js';

// ---- builders (shared ones in ./builders.ts) --------------------------------------------

const SECRETS = { apiKeyId: 'key-id-123', apiSecretKey: 'secret-key-456' };

const channel = channelBuilder('sendblue', { name: 'imessage', settings: { fromNumber: '+15122164639', baseUrl: 'https://api.sendblue.co' }, secrets: SECRETS });

/** Status callbacks go to Sendblue's own status path, with hex tokens. */
const ctxFor = (ch: Channel) => contextFor(ch, { statusUrl: `https://roost.example/v1/sendblue/${ch.id}/status`, tokens: 'hex' });

const request = (body: unknown, opts: RequestOptions & { url?: string } = {}) =>
  inboundRequest(opts.url ?? 'https://roost.example/v1/sendblue/inbound', body, opts);

const message = (ch: Channel, type: MessageType, content: MessageContent) =>
  outboundMessage(ch, type, content, { from: '+15122164639', to: '+19998887777' });

// ---- settings ---------------------------------------------------------------------------

describe('sendblue parseSettings', () => {
  const valid = { apiKeyId: 'kid', apiSecretKey: 'ksecret', fromNumber: '+1 (512) 216-4639' };

  it('splits public settings from secrets and normalises fromNumber', () => {
    const out = sendblueConnector.parseSettings({ ...valid, signingSecret: 'whsec' });
    expect(out.settings).toEqual({ fromNumber: '+15122164639', baseUrl: 'https://api.sendblue.co' });
    expect(out.secrets).toEqual({ apiKeyId: 'kid', apiSecretKey: 'ksecret', signingSecret: 'whsec' });
    const serialised = JSON.stringify(out.settings);
    for (const secret of ['kid', 'ksecret', 'whsec']) expect(serialised).not.toContain(secret);
  });

  it.each(['apiKeyId', 'apiSecretKey', 'fromNumber'])('requires %s', (key) => {
    const input: Record<string, unknown> = { ...valid };
    delete input[key];
    const err = thrown(() => sendblueConnector.parseSettings(input));
    expect(err.kind).toBe('missing_parameter');
    expect(err.parameter).toBe(`settings.${key}`);
  });

  it('refuses an invalid fromNumber, baseUrl, secret type and unknown keys', () => {
    expect(thrown(() => sendblueConnector.parseSettings({ ...valid, fromNumber: 'not a number' })).parameter).toBe('settings.fromNumber');
    expect(thrown(() => sendblueConnector.parseSettings({ ...valid, fromNumber: 15122164639 })).kind).toBe('invalid_parameter');
    for (const baseUrl of ['ftp://api.sendblue.co', 'nope', 42, 'https://api.sendblue.co/?x=1']) {
      const err = thrown(() => sendblueConnector.parseSettings({ ...valid, baseUrl }));
      expect(err.kind).toBe('invalid_parameter');
      expect(err.parameter).toBe('settings.baseUrl');
    }
    expect(thrown(() => sendblueConnector.parseSettings({ ...valid, apiKeyId: 12 })).parameter).toBe('settings.apiKeyId');
    const unknown = thrown(() => sendblueConnector.parseSettings({ ...valid, apiKey: 'x' }));
    expect(unknown.kind).toBe('invalid_parameter');
    expect(unknown.parameter).toBe('settings.apiKey');
  });

  it('strips trailing slashes from baseUrl', () => {
    const out = sendblueConnector.parseSettings({ ...valid, baseUrl: 'http://127.0.0.1:8080/sb/' });
    expect(out.settings.baseUrl).toBe('http://127.0.0.1:8080/sb');
  });

  it('keeps unnamed values on PATCH and clears an optional secret with null', () => {
    const previous = sendblueConnector.parseSettings({ ...valid, signingSecret: 'whsec', baseUrl: 'http://localhost:9/' });
    const patched = sendblueConnector.parseSettings({ fromNumber: '+19998887777' }, previous);
    expect(patched.settings).toEqual({ fromNumber: '+19998887777', baseUrl: 'http://localhost:9' });
    expect(patched.secrets).toEqual({ apiKeyId: 'kid', apiSecretKey: 'ksecret', signingSecret: 'whsec' });

    const rotated = sendblueConnector.parseSettings({ apiSecretKey: 'new', signingSecret: null }, previous);
    expect(rotated.secrets).toEqual({ apiKeyId: 'kid', apiSecretKey: 'new' });
    expect(thrown(() => sendblueConnector.parseSettings({ apiKeyId: null }, previous)).parameter).toBe('settings.apiKeyId');
  });
});

// ---- verify -----------------------------------------------------------------------------

describe('sendblue verify', () => {
  const body = sendblueInboundPayload();

  it('accepts everything when no signing secret is configured', () => {
    const ch = channel();
    expect(sendblueConnector.verify(request(body), ctxFor(ch))).toEqual({ ok: true });
    expect(sendblueConnector.verify(request(body, { headers: { 'sb-signing-secret': 'whatever' } }), ctxFor(ch)).ok).toBe(true);
  });

  it('checks the sb-signing-secret header when a secret is configured', () => {
    const ctx = ctxFor(channel({}, { signingSecret: 's3cret' }));
    expect(sendblueConnector.verify(request(body, { headers: { 'sb-signing-secret': 's3cret' } }), ctx)).toEqual({ ok: true });
    expect(sendblueConnector.verify(request(body, { headers: { 'sb-signing-secret': 's3creX' } }), ctx)).toMatchObject({ ok: false, status: 401 });
    expect(sendblueConnector.verify(request(body, { headers: { 'sb-signing-secret': 's3' } }), ctx)).toMatchObject({ ok: false, status: 401 });
    expect(sendblueConnector.verify(request(body), ctx)).toMatchObject({ ok: false, status: 401 });
  });

  it('accepts a status callback URL with a valid token instead of the header', () => {
    const ch = channel({}, { signingSecret: 's3cret' });
    const ctx = ctxFor(ch);
    const id = newId<'message'>();
    const url = ctx.statusCallbackUrl(id);
    expect(sendblueConnector.verify(request(sendblueStatusPayload(), { url }), ctx)).toEqual({ ok: true });
    const forged = url.replace(/token=[0-9a-f]+/, `token=${'0'.repeat(64)}`);
    expect(sendblueConnector.verify(request(sendblueStatusPayload(), { url: forged }), ctx)).toMatchObject({ ok: false, status: 401 });
    const otherMessage = url.replace(id, newId<'message'>());
    expect(sendblueConnector.verify(request(sendblueStatusPayload(), { url: otherMessage }), ctx)).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses methods other than POST', () => {
    expect(sendblueConnector.verify(request('', { method: 'GET' }), ctxFor(channel()))).toMatchObject({ ok: false, status: 405 });
  });
});

// ---- parse: received messages -----------------------------------------------------------

describe('sendblue parse (receive webhook)', () => {
  const ch = channel();
  const ctx = ctxFor(ch);

  it('parses the seed 001 payload verbatim', () => {
    // Seed 001, as published (the account email is redacted on the page).
    const seed = `{
"accountEmail": "[email protected]",
"content": "Ahoy Developer!",
"media_url": "some_cdn_link.png",
"is_outbound": false,
"status": "RECEIVED",
"error_code": null,
"error_message": null,
"message_handle": "xxxxx",
"date_sent": "2020-09-10T06:15:05.962Z",
"date_updated": "2020-09-10T06:15:05.962Z",
"from_number": "+19998887777",
"number": "+19998887777",
"to_number": "+15122164639",
"was_downgraded": false,
"plan": "blue"
}`;
    const parsed = sendblueConnector.parse(request(seed), ctx);
    expect(parsed.response).toBeUndefined();
    expect(parsed.items).toEqual([
      {
        kind: 'message',
        providerMessageId: 'xxxxx',
        contact: { key: 'phonenumber', value: '+19998887777' },
        from: '+19998887777',
        to: '+15122164639',
        type: 'image',
        content: { image: { url: 'some_cdn_link.png', caption: 'Ahoy Developer!' } },
      },
    ]);
  });

  it('parses the current docs example (reference §4.1) verbatim', () => {
    const current = `{ "accountEmail": "your-account-email", "content": "Hello!", "is_outbound": false, "status": "RECEIVED",
  "error_code": null, "error_message": null, "error_reason": null,
  "message_handle": "99DCC379-DD76-4712-BA65-11EFB33B8CD6",
  "date_sent": "2025-12-12T15:41:20.932Z", "date_updated": "2025-12-12T15:41:20.995Z",
  "from_number": "+19998887777", "number": "+19998887777", "to_number": "+15122164639",
  "was_downgraded": null, "plan": "dedicated", "media_url": "", "message_type": "message", "group_id": "",
  "participants": [ "+19998887777", "+15122164639" ], "send_style": "", "opted_out": false,
  "error_detail": null, "sendblue_number": "+15122164639", "service": "iMessage", "group_display_name": null }`;
    expect(sendblueConnector.parse(request(current), ctx).items).toEqual([
      {
        kind: 'message',
        providerMessageId: '99DCC379-DD76-4712-BA65-11EFB33B8CD6',
        contact: { key: 'phonenumber', value: '+19998887777' },
        from: '+19998887777',
        to: '+15122164639',
        type: 'text',
        content: { text: 'Hello!' },
      },
    ]);
  });

  it.each([
    ['https://cdn.sendblue.co/a/photo.JPEG?sig=1', 'image'],
    ['https://cdn.sendblue.co/a/photo.heic', 'image'],
    ['https://cdn.sendblue.co/a/clip.mov', 'video'],
    ['https://cdn.sendblue.co/a/voice.caf', 'audio'],
    ['https://cdn.sendblue.co/a/song.mp3', 'audio'],
    ['https://cdn.sendblue.co/a/doc.pdf', 'file'],
    ['https://cdn.sendblue.co/a/noext', 'file'],
  ])('types media %s as %s', (url, type) => {
    const [item] = sendblueConnector.parse(request(sendblueInboundPayload({ media_url: url, content: '' })), ctx).items;
    expect(item).toMatchObject({ kind: 'message', type, content: { [type]: { url } } });
    expect((item as { content: Record<string, { caption?: string }> }).content[type]!.caption).toBeUndefined();
  });

  it('normalises numbers and falls back to sendblue_number, then the channel number', () => {
    const a = sendblueConnector.parse(request(sendblueInboundPayload({ number: '19998887777', to_number: undefined, sendblue_number: '+1 512 216 0000' })), ctx);
    expect(a.items[0]).toMatchObject({ contact: { value: '+19998887777' }, from: '+19998887777', to: '+15122160000' });
    const b = sendblueConnector.parse(request(sendblueInboundPayload({ number: undefined, to_number: null, sendblue_number: null })), ctx);
    expect(b.items[0]).toMatchObject({ from: '+19998887777', to: '+15122164639' });
  });

  it('acknowledges and drops group messages', () => {
    const parsed = sendblueConnector.parse(request(sendblueInboundPayload({ message_type: 'group', group_id: 'g-1' })), ctx);
    expect(parsed.items).toEqual([]);
  });

  it.each([
    ['not JSON', '{"content": '],
    ['a JSON array', '[]'],
    ['a JSON string', '"hi"'],
    ['no message_handle', sendblueInboundPayload({ message_handle: undefined })],
    ['an empty message_handle', sendblueInboundPayload({ message_handle: '' })],
    ['no number', sendblueInboundPayload({ number: undefined, from_number: undefined })],
    ['an invalid number', sendblueInboundPayload({ number: 'alice', from_number: 'alice' })],
    ['neither content nor media', sendblueInboundPayload({ content: '', media_url: '' })],
    ['a javascript: media_url', sendblueInboundPayload({ media_url: 'javascript:alert(1)' })],
    ['a file: media_url', sendblueInboundPayload({ media_url: 'file:///etc/passwd' })],
    ['a javascript: media_url split by a tab (a browser drops it)', sendblueInboundPayload({ media_url: 'java\tscript:alert(1)' })],
    ['a javascript: media_url split by a newline', sendblueInboundPayload({ media_url: 'java\nscript:alert(1)' })],
    ['a javascript: media_url behind a control character', sendblueInboundPayload({ media_url: '\u0001javascript:alert(1)' })],
    ['a non-string content', sendblueInboundPayload({ content: 5 })],
    ['no is_outbound or status', sendblueInboundPayload({ is_outbound: undefined, status: undefined })],
  ])('refuses a body with %s as bad_request', (_what, body) => {
    expect(thrown(() => sendblueConnector.parse(request(body), ctx)).kind).toBe('bad_request');
  });

  it('refuses an inbound message posted to a status-callback URL', () => {
    const sctx = ctxFor(channel({}, { signingSecret: 's3cret' }));
    const url = sctx.statusCallbackUrl(newId<'message'>());
    expect(thrown(() => sendblueConnector.parse(request(sendblueInboundPayload(), { url }), sctx)).kind).toBe('unauthorized');
  });
});

// ---- parse: status callbacks ------------------------------------------------------------

describe('sendblue parse (status callback)', () => {
  const ch = channel();
  const ctx = ctxFor(ch);

  it.each([
    ['QUEUED', 'pending'],
    ['REGISTERED', 'pending'],
    ['PENDING', 'pending'],
    ['ACCEPTED', 'pending'],
    ['SENT', 'sent'],
    ['DELIVERED', 'delivered'],
    ['READ', 'read'],
    ['ERROR', 'failed'],
    ['FAILED', 'failed'],
    ['DECLINED', 'failed'],
  ])('maps %s to %s', (wire, status) => {
    const payload = sendblueStatusPayload({ status: wire });
    const { items } = sendblueConnector.parse(request(payload), ctx);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'status', providerMessageId: payload.message_handle, status });
    expect((items[0] as StatusUpdate).messageId).toBeUndefined();
    if (status !== 'failed') expect((items[0] as StatusUpdate).error).toBeUndefined();
  });

  it('carries the error of a failed message', () => {
    const withMessage = sendblueConnector.parse(request(sendblueStatusPayload({ status: 'ERROR', error_code: 10001, error_message: 'Message failed to send' })), ctx);
    expect((withMessage.items[0] as StatusUpdate).error).toEqual({ code: 10001, description: 'Message failed to send' });
    const withDetail = sendblueConnector.parse(request(sendblueStatusPayload({ status: 'FAILED', error_detail: 'number blocked' })), ctx);
    expect((withDetail.items[0] as StatusUpdate).error).toEqual({ code: 0, description: 'number blocked' });
    const bare = sendblueConnector.parse(request(sendblueStatusPayload({ status: 'DECLINED' })), ctx);
    expect((bare.items[0] as StatusUpdate).error).toEqual({ code: 0, description: 'DECLINED' });
  });

  it('ignores unknown statuses without failing', () => {
    for (const status of ['SUCCESS', 'SOMETHING_NEW', null]) {
      expect(sendblueConnector.parse(request(sendblueStatusPayload({ status })), ctx)).toEqual({ items: [] });
    }
  });

  it('takes the Roost message id from a callback URL whose token checks out', () => {
    const id = newId<'message'>();
    const url = ctx.statusCallbackUrl(id);
    const { items } = sendblueConnector.parse(request(sendblueStatusPayload({ status: 'SENT' }), { url }), ctx);
    expect((items[0] as StatusUpdate).messageId).toBe(id);

    const forged = url.replace(/token=[0-9a-f]+/, 'token=abc');
    const untrusted = sendblueConnector.parse(request(sendblueStatusPayload({ status: 'SENT' }), { url: forged }), ctx);
    expect((untrusted.items[0] as StatusUpdate).messageId).toBeUndefined();
  });

  it('treats a body without is_outbound on a callback URL as a status update', () => {
    const id = newId<'message'>();
    const { items } = sendblueConnector.parse(request(sendblueStatusPayload({ is_outbound: undefined, status: 'READ' }), { url: ctx.statusCallbackUrl(id) }), ctx);
    expect(items[0]).toMatchObject({ kind: 'status', status: 'read', messageId: id });
  });

  it('refuses a status callback without message_handle or with a malformed body', () => {
    expect(thrown(() => sendblueConnector.parse(request(sendblueStatusPayload({ message_handle: null })), ctx)).kind).toBe('bad_request');
    expect(thrown(() => sendblueConnector.parse(request('{"is_outbound": true,'), ctx)).kind).toBe('bad_request');
  });
});

// ---- identifiers ------------------------------------------------------------------------

describe('sendblue addresses', () => {
  it('identifies phone numbers only', () => {
    expect(sendblueConnector.identifierFor('+1 999 888 7777')).toEqual({ key: 'phonenumber', value: '+19998887777' });
    expect(sendblueConnector.identifierFor('alice@example.com')).toBeUndefined();
  });

  it('sends from the channel number', () => {
    expect(sendblueConnector.ownAddress(channel())).toBe('+15122164639');
  });
});

// ---- send -------------------------------------------------------------------------------

describe('sendblue send', () => {
  const { fake, http } = useFakeProvider(startFakeSendblue);

  const send = (ch: Channel, msg: Message, client: HttpClient = http) => sendblueConnector.send({ message: msg, channel: ch, ctx: ctxFor(ch) }, client);

  it('posts a text message with both key headers and a status callback', async () => {
    const ch = channel({ baseUrl: fake.url });
    const msg = message(ch, 'text', { text: 'Hello world!' });
    const outcome = await send(ch, msg);

    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/api/send-message');
    expect(req!.headers['sb-api-key-id']).toBe('key-id-123');
    expect(req!.headers['sb-api-secret-key']).toBe('secret-key-456');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.body).toEqual({
      number: '+19998887777',
      from_number: '+15122164639',
      content: 'Hello world!',
      status_callback: ctxFor(ch).statusCallbackUrl(msg.id),
    });
    expect(outcome).toMatchObject({ kind: 'accepted', status: 'pending' });
    expect((outcome as { providerMessageId: string }).providerMessageId).toMatch(/^[0-9A-F-]{36}$/);
  });

  it('sends media with its caption as content, and without content when uncaptioned', async () => {
    const ch = channel({ baseUrl: fake.url });
    await send(ch, message(ch, 'image', { image: { url: 'https://example.com/cat.png', caption: 'A cat' } }));
    await send(ch, message(ch, 'file', { file: { url: 'https://example.com/doc.pdf' } }));
    expect(fake.requests[0]!.body).toMatchObject({ content: 'A cat', media_url: 'https://example.com/cat.png' });
    expect(fake.requests[1]!.body).toMatchObject({ media_url: 'https://example.com/doc.pdf' });
    expect(fake.requests[1]!.body).not.toHaveProperty('content');
  });

  it('renders a location as text', async () => {
    const ch = channel({ baseUrl: fake.url });
    await send(ch, message(ch, 'location', { location: { latitude: 52.37, longitude: 4.89 } }));
    expect(fake.requests[0]!.body).toMatchObject({ content: '52.37,4.89' });
    expect(fake.requests[0]!.body).not.toHaveProperty('media_url');
  });

  it('keeps a path prefix of baseUrl', async () => {
    const ch = channel({ baseUrl: `${fake.url}/proxy` });
    fake.respondWith(() => ({ status: 200, json: { message_handle: 'H-1', status: 'SENT' } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'accepted', providerMessageId: 'H-1', status: 'sent' });
    expect(fake.requests[0]!.path).toBe('/proxy/api/send-message');
  });

  it('reports a 2xx with status ERROR as failed', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 200, json: { message_handle: 'H-2', status: 'ERROR', error_code: 4002, error_message: 'blacklisted number' } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 4002, description: 'blacklisted number' } });
  });

  it('retries a 2xx without message_handle', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 200, json: { status: 'OK' } }));
    const outcome = await send(ch, message(ch, 'text', { text: 'hi' }));
    expect(outcome).toMatchObject({ kind: 'retry', error: { code: 0 } });
  });

  it('fails on 400 with the error Sendblue gives', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 400, json: { status: 'ERROR', error_code: 4000, error_message: 'Invalid number' } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 4000, description: 'Invalid number' } });

    fake.respondWith(() => ({ status: 401, json: { status: 'ERROR', message: 'Unauthorized' } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 401, description: 'Unauthorized' } });

    fake.respondWith(() => ({ status: 403 }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 403, description: 'Sendblue answered 403' } });
  });

  it('retries 429 honouring retry-after, and 408', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 429, json: { status: 'ERROR', error_code: 4001, error_message: 'rate limit' }, headers: { 'retry-after': '7' } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({
      kind: 'retry',
      error: { code: 4001, description: 'rate limit' },
      retryAfterMs: 7000,
    });
    fake.respondWith(() => ({ status: 408 }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toMatchObject({ kind: 'retry', error: { code: 408 } });
  });

  it('retries a 500', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 500, json: { status: 'ERROR', message: 'internal' } }));
    const outcome = await send(ch, message(ch, 'text', { text: 'hi' }));
    expect(outcome).toEqual({ kind: 'retry', error: { code: 500, description: 'internal' } });
  });

  it('retries when nothing listens on the port', async () => {
    const ch = channel({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    const outcome = await send(ch, message(ch, 'text', { text: 'hi' }));
    expect(outcome).toMatchObject({ kind: 'retry', error: { code: 0 } });
  });

  it('fails for good when the base URL is a refused private address', async () => {
    await withStrictHttpClient(async (strict) => {
      const ch = channel({ baseUrl: fake.url });
      const outcome = await send(ch, message(ch, 'text', { text: 'hi' }), strict);
      expect(outcome).toMatchObject({ kind: 'failed', error: { code: 0 } });
      expect(fake.requests).toHaveLength(0);
    });
  });

  it('fails without calling Sendblue when credentials are missing', async () => {
    const ch = channel({ baseUrl: fake.url });
    ch.secrets = {};
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toMatchObject({ kind: 'failed' });
    expect(fake.requests).toHaveLength(0);
  });
});

// ---- fake server helper -----------------------------------------------------------------

describe('fake Sendblue postStatus', () => {
  it('posts a status callback with the signing header', async () => {
    const fake = await startFakeSendblue();
    const receiver = await startFakeSendblue();
    try {
      receiver.respondWith(() => ({ status: 200, json: { status: 'ok' } }));
      const res = await fake.postStatus(`${receiver.url}/status?message=m&token=t`, sendblueStatusPayload({ status: 'SENT' }), { signingSecret: 'abc' });
      expect(res).toEqual({ status: 200, body: '{"status":"ok"}' });
      expect(receiver.requests[0]).toMatchObject({ path: '/status?message=m&token=t', headers: { 'sb-signing-secret': 'abc' }, body: { status: 'SENT', is_outbound: true } });
    } finally {
      await fake.close();
      await receiver.close();
    }
  });
});
