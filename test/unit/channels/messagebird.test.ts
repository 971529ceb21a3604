import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InboundRequest, StatusUpdate } from '../../../src/channels/connector.js';
import { JWT_LEEWAY_S, LEGACY_WINDOW_S, verifyMessageBird } from '../../../src/channels/messagebird/auth.js';
import { messagebirdConnector } from '../../../src/channels/messagebird/messagebird-connector.js';
import type { MessageContent, MessageType } from '../../../src/domain/content.js';
import { signMessageBirdJwt } from '../../../src/delivery/signing/messagebird-jwt.js';
import { signMessageBirdLegacy } from '../../../src/delivery/signing/messagebird-legacy.js';
import { newId } from '../../../src/domain/ids.js';
import type { Channel, Message } from '../../../src/domain/records.js';
import type { HttpClient } from '../../../src/net/http-client.js';
import {
  messageBirdErrors, messageBirdFixture, startFakeMessageBird, webhookPayload, withQuery,
} from '../../helpers/fake-messagebird.js';
import {
  JSON_TYPE, channelBuilder, closedPort, contextFor, inboundRequest, outboundMessage, thrown, useFakeProvider, withStrictHttpClient,
} from './builders.js';

// ---- builders (shared ones in ./builders.ts) --------------------------------------------

const ACCESS_KEY = 'live_mb_access_key_0001';
const SIGNING_KEY = 'mb-signing-key-0001';
const MB_CHANNEL = '2ceefea7c1b8c79673215c42c1a6b916';

const channel = channelBuilder('messagebird', {
  settings: { channelId: MB_CHANNEL, baseUrl: 'https://conversations.messagebird.com/v1' },
  secrets: { accessKey: ACCESS_KEY, signingKey: SIGNING_KEY },
});

const ctxFor = (ch: Channel) => contextFor(ch);

const NOW_S = 1_718_000_000;
const NOW_MS = NOW_S * 1000;

/** The body as MessageBird sends it: raw text, JSON for anything else, empty for none. */
const rawOf = (body: unknown): string => (body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body));

/** A request to `url`, with a JSON content-type only when it has a body. */
function request(url: string, body: unknown, opts: { headers?: Record<string, string>; method?: string } = {}): InboundRequest {
  const raw = rawOf(body);
  return inboundRequest(url, raw, { ...opts, contentType: raw === '' ? null : JSON_TYPE });
}

/** A request signed as MessageBird signs it: a JWT over the exact URL and body. */
function signed(url: string, body: unknown, o: { key?: string; now?: number; jti?: string; method?: string } = {}): InboundRequest {
  const raw = rawOf(body);
  const token = signMessageBirdJwt(url, raw, o.key ?? SIGNING_KEY, o.now ?? NOW_S, o.jti);
  return request(url, raw, { method: o.method ?? (raw === '' ? 'GET' : 'POST'), headers: { 'messagebird-signature-jwt': token } });
}

function legacySigned(url: string, o: { key?: string; timestamp?: number; method?: string; body?: string } = {}): InboundRequest {
  const ts = String(o.timestamp ?? NOW_S);
  const query = Object.fromEntries(new URL(url).searchParams);
  const signature = signMessageBirdLegacy(ts, query, o.body ?? '', o.key ?? SIGNING_KEY);
  return request(url, o.body, {
    method: o.method ?? 'GET',
    headers: { 'messagebird-signature': signature, 'messagebird-request-timestamp': ts },
  });
}

const message = (ch: Channel, type: MessageType, content: MessageContent, to = '+31612345678') =>
  outboundMessage(ch, type, content, { from: MB_CHANNEL, to });

const DLR_DELIVERED = messageBirdFixture('sms-status-report-delivered') as Record<string, string>;
const DLR_FAILED = messageBirdFixture('sms-status-report-failed') as Record<string, string>;

// ---- settings ---------------------------------------------------------------------------

describe('messagebird parseSettings', () => {
  const valid = { accessKey: ACCESS_KEY, signingKey: SIGNING_KEY, channelId: MB_CHANNEL };

  it('splits public settings from secrets', () => {
    const out = messagebirdConnector.parseSettings({ ...valid, fromNumber: '+31 97 010 260 000' });
    expect(out.settings).toEqual({ channelId: MB_CHANNEL, baseUrl: 'https://conversations.messagebird.com/v1', fromNumber: '+3197010260000' });
    expect(out.secrets).toEqual({ accessKey: ACCESS_KEY, signingKey: SIGNING_KEY });
    const serialised = JSON.stringify(out.settings);
    for (const secret of [ACCESS_KEY, SIGNING_KEY]) expect(serialised).not.toContain(secret);
  });

  it.each(['accessKey', 'signingKey', 'channelId'])('requires %s', (key) => {
    const input: Record<string, unknown> = { ...valid };
    delete input[key];
    const err = thrown(() => messagebirdConnector.parseSettings(input));
    expect(err.kind).toBe('missing_parameter');
    expect(err.parameter).toBe(`settings.${key}`);
  });

  it('refuses invalid values and unknown keys', () => {
    for (const channelId of ['has space', 'a/b', 7, 'x'.repeat(129)]) {
      expect(thrown(() => messagebirdConnector.parseSettings({ ...valid, channelId })).parameter).toBe('settings.channelId');
    }
    expect(thrown(() => messagebirdConnector.parseSettings({ ...valid, fromNumber: 'MyCompany' })).parameter).toBe('settings.fromNumber');
    for (const baseUrl of ['ftp://x', 'nope', 'https://conversations.messagebird.com/v1?x=1']) {
      expect(thrown(() => messagebirdConnector.parseSettings({ ...valid, baseUrl })).parameter).toBe('settings.baseUrl');
    }
    expect(thrown(() => messagebirdConnector.parseSettings({ ...valid, accessKey: 5 })).parameter).toBe('settings.accessKey');
    expect(thrown(() => messagebirdConnector.parseSettings({ ...valid, signingKey: ' padded ' })).parameter).toBe('settings.signingKey');
    expect(thrown(() => messagebirdConnector.parseSettings({ ...valid, platform: 'sms' })).parameter).toBe('settings.platform');
  });

  it('keeps unnamed values on PATCH and clears fromNumber with null', () => {
    const previous = messagebirdConnector.parseSettings({ ...valid, fromNumber: '+3197010260000', baseUrl: 'http://127.0.0.1:9/v1/' });
    const rotated = messagebirdConnector.parseSettings({ signingKey: 'new-key' }, previous);
    expect(rotated).toEqual({
      settings: { channelId: MB_CHANNEL, baseUrl: 'http://127.0.0.1:9/v1', fromNumber: '+3197010260000' },
      secrets: { accessKey: ACCESS_KEY, signingKey: 'new-key' },
    });
    expect(messagebirdConnector.parseSettings({ fromNumber: null }, previous).settings).not.toHaveProperty('fromNumber');
    expect(thrown(() => messagebirdConnector.parseSettings({ accessKey: null }, previous)).parameter).toBe('settings.accessKey');
  });
});

// ---- verify -----------------------------------------------------------------------------

describe('messagebird verify', () => {
  const ch = channel();
  const ctx = ctxFor(ch);
  const url = ctx.inboundUrl;
  const payload = messageBirdFixture('message-created-text');
  const verify = (req: InboundRequest, now = NOW_MS) => verifyMessageBird(req, ctx, now);

  it('accepts a JWT-signed webhook and hands its jti to the core as the replay key', () => {
    const jti = '2f1c6d0e-7a4b-4c3d-9e8f-0a1b2c3d4e5f';
    expect(verify(signed(url, payload, { jti }))).toEqual({
      ok: true,
      replayKey: { key: `jwt:${jti}`, expiresAt: (NOW_S + 60 + JWT_LEEWAY_S) * 1000 },
    });
  });

  it('gives the same replay key for the same token twice, and different keys for fresh tokens', () => {
    const req = signed(url, payload);
    const a = verify(req);
    const b = verify(req, NOW_MS + 30_000);
    expect(a.ok && b.ok && a.replayKey?.key === b.replayKey?.key).toBe(true);
    const c = verify(signed(url, payload));
    expect(c.ok && a.ok && c.replayKey?.key !== a.replayKey?.key).toBe(true);
  });

  it('accepts a JWT-signed status report GET whose url_hash covers the query', () => {
    const dlrUrl = withQuery(url, DLR_DELIVERED);
    expect(verify(signed(dlrUrl, undefined))).toMatchObject({ ok: true, replayKey: { key: expect.stringMatching(/^jwt:/) } });
    // The same token presented with one parameter changed is not the URL that was signed.
    const token = signed(dlrUrl, undefined).headers['messagebird-signature-jwt']!;
    const forged = request(dlrUrl.replace('status=delivered', 'status=delivery_failed'), undefined, { method: 'GET', headers: { 'messagebird-signature-jwt': token } });
    expect(verify(forged)).toMatchObject({ ok: false, status: 401, reason: expect.stringContaining('url_hash') });
  });

  it.each([
    ['signed with another key', () => signed(url, payload, { key: 'another-key' }), 'signature is invalid'],
    ['for another URL', () => {
      const token = signMessageBirdJwt(`${url}x`, JSON.stringify(payload), SIGNING_KEY, NOW_S);
      return request(url, payload, { headers: { 'messagebird-signature-jwt': token } });
    }, 'url_hash'],
    ['expired', () => signed(url, payload, { now: NOW_S - 60 - JWT_LEEWAY_S }), 'exp is in the past'],
    ['not valid yet', () => signed(url, payload, { now: NOW_S + JWT_LEEWAY_S + 1 }), 'nbf is in the future'],
  ])('refuses a token %s with 401', (_what, make, reason) => {
    expect(verify(make())).toMatchObject({ ok: false, status: 401, reason: expect.stringContaining(reason) });
  });

  it('allows the clock leeway on expiry', () => {
    expect(verify(signed(url, payload, { now: NOW_S - 60 - JWT_LEEWAY_S + 1 }))).toMatchObject({ ok: true });
  });

  it('refuses a tampered body, a missing or empty body hash, garbage and a missing header', () => {
    const good = signed(url, payload);
    const token = good.headers['messagebird-signature-jwt']!;
    const tampered = request(url, { ...payload, type: 'message.updated' }, { headers: { 'messagebird-signature-jwt': token } });
    expect(verify(tampered)).toMatchObject({ ok: false, status: 401, reason: expect.stringContaining('payload_hash') });
    const emptied = request(url, undefined, { headers: { 'messagebird-signature-jwt': token } });
    expect(verify(emptied)).toMatchObject({ ok: false, status: 401 });
    for (const garbage of ['', 'abc', 'a.b.c']) {
      expect(verify(request(url, payload, { headers: { 'messagebird-signature-jwt': garbage } }))).toMatchObject({ ok: false, status: 401 });
    }
    expect(verify(request(url, payload))).toEqual({ ok: false, status: 401, reason: 'missing messagebird-signature-jwt header' });
  });

  it('passes the official reference vectors (GET and POST) through the channel check', () => {
    type Vector = { name: string; method: string; secret: string; url: string; timestamp: string; token: string; valid: boolean; payload?: string };
    const vectors = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../fixtures/messagebird-webhook-signature-jwt-reference.json'), 'utf8')) as Vector[];
    const used = vectors.filter((v) => v.method === 'GET' || v.method === 'POST');
    expect(used.length).toBeGreaterThan(20);
    for (const v of used) {
      const vctx = ctxFor(channel({}, { signingKey: v.secret }));
      const req = request(v.url, v.payload, { method: v.method, headers: { 'messagebird-signature-jwt': v.token } });
      const verdict = verifyMessageBird(req, vctx, Date.parse(v.timestamp));
      expect(verdict.ok, v.name).toBe(v.valid);
    }
  });

  it('accepts the official legacy vector on a status report GET, and refuses it changed', () => {
    const key = 'PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd';
    const vctx = ctxFor(channel({}, { signingKey: key }));
    const query = 'id=eef0ab57a9e049be946f3821568c2b2e&mccmnc=20408&ported=1&recipient=31612345678&reference=FOO&status=delivered&statusDatetime=2019-01-11T09%3A17%3A11%2B00%3A00';
    const headers = { 'messagebird-signature': 'KVBdcVdz2lYMwcBLZCRITgxUfA/WkwSi+T3Wxl2HL6w=', 'messagebird-request-timestamp': '1547198231' };
    const at = 1547198231 * 1000;
    expect(verifyMessageBird(request(`${url}?${query}`, undefined, { method: 'GET', headers }), vctx, at)).toEqual({
      ok: true,
      replayKey: { key: `legacy:${headers['messagebird-signature']}`, expiresAt: (1547198231 + LEGACY_WINDOW_S + 1) * 1000 },
    });
    // The `+` of the offset often arrives unencoded, read back as a space: still accepted.
    const plain = query.replace('%2B', '+');
    expect(verifyMessageBird(request(`${url}?${plain}`, undefined, { method: 'GET', headers }), vctx, at)).toMatchObject({ ok: true });
    const bar = query.replace('reference=FOO', 'reference=BAR');
    expect(verifyMessageBird(request(`${url}?${bar}`, undefined, { method: 'GET', headers }), vctx, at)).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses legacy timestamps more than five minutes away, either way', () => {
    const dlrUrl = withQuery(url, DLR_DELIVERED);
    expect(verify(legacySigned(dlrUrl, { timestamp: NOW_S - LEGACY_WINDOW_S }))).toMatchObject({ ok: true });
    expect(verify(legacySigned(dlrUrl, { timestamp: NOW_S - LEGACY_WINDOW_S - 1 }))).toMatchObject({ ok: false, status: 401, reason: expect.stringContaining('too old') });
    expect(verify(legacySigned(dlrUrl, { timestamp: NOW_S + LEGACY_WINDOW_S + 1 }))).toMatchObject({ ok: false, status: 401, reason: expect.stringContaining('future') });
  });

  it('refuses legacy signatures that are wrong, incomplete, or on a webhook POST', () => {
    const dlrUrl = withQuery(url, DLR_DELIVERED);
    expect(verify(legacySigned(dlrUrl, { key: 'wrong' }))).toMatchObject({ ok: false, status: 401 });
    const good = legacySigned(dlrUrl);
    const noTimestamp = request(dlrUrl, undefined, { method: 'GET', headers: { 'messagebird-signature': good.headers['messagebird-signature']! } });
    expect(verify(noTimestamp)).toMatchObject({ ok: false, status: 401, reason: 'missing messagebird-request-timestamp header' });
    const badTimestamp = request(dlrUrl, undefined, { method: 'GET', headers: { ...good.headers, 'messagebird-request-timestamp': 'yesterday' } as Record<string, string> });
    expect(verify(badTimestamp)).toMatchObject({ ok: false, status: 401 });
    const post = legacySigned(url, { method: 'POST', body: JSON.stringify(payload) });
    expect(verify(post)).toMatchObject({ ok: false, status: 401, reason: expect.stringContaining('only accepted on status reports') });
  });

  it('refuses everything on a channel without a signing key, and other methods', () => {
    const bare = ctxFor(channel({}, { signingKey: '' }));
    expect(verifyMessageBird(signed(url, payload, { key: '' }), bare, NOW_MS)).toMatchObject({ ok: false, status: 401 });
    expect(verify(request(url, payload, { method: 'PUT' }))).toMatchObject({ ok: false, status: 405 });
  });

  it('checks tokens against the real clock through the connector', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(messagebirdConnector.verify(signed(url, payload, { now }), ctx)).toMatchObject({ ok: true });
    expect(messagebirdConnector.verify(signed(url, payload, { now: now - 3600 }), ctx)).toMatchObject({ ok: false, status: 401 });
  });
});

// ---- parse: conversation webhooks -------------------------------------------------------

describe('messagebird parse (conversation webhooks)', () => {
  const ch = channel({ fromNumber: '+3197010260000' });
  const ctx = ctxFor(ch);
  const parse = (body: unknown, url = ctx.inboundUrl) => messagebirdConnector.parse(request(url, body), ctx);

  it('parses a received text message', () => {
    const parsed = parse(messageBirdFixture('message-created-text'));
    expect(parsed.response).toBeUndefined();
    expect(parsed.items).toEqual([
      {
        kind: 'message',
        providerMessageId: '93a1f7ba935c4ee298cb5ef952052ea7',
        contact: { key: 'phonenumber', value: '+31612345678' },
        from: '+31612345678',
        to: '+3197010260000',
        type: 'text',
        content: { text: 'Testing webhook functionality.' },
      },
    ]);
  });

  it('parses an image with its caption and normalises an MSISDN sender', () => {
    expect(parse(messageBirdFixture('message-created-image')).items).toEqual([
      expect.objectContaining({
        providerMessageId: 'b2c0a6a1e54d4a9c8c3b0f3f4d1e2a77',
        contact: { key: 'phonenumber', value: '+31612345678' },
        from: '+31612345678',
        type: 'image',
        content: { image: { url: 'https://media.messagebird.com/v1/media/0c5d7a9e-3b5e-4a4f-9f61-7c2d8b1e4a11', caption: 'Receipt attached' } },
      }),
    ]);
  });

  it.each(['video', 'audio', 'file'] as const)('maps %s 1:1, without an empty caption', (type) => {
    const url = `https://media.messagebird.com/v1/media/${type}`;
    const [item] = parse(webhookPayload('message-created-image', { type, content: { [type]: { url, caption: '' } } })).items;
    expect(item).toMatchObject({ type, content: { [type]: { url } } });
    expect((item as { content: Record<string, object> }).content[type]).toEqual({ url });
  });

  it('parses a location', () => {
    expect(parse(messageBirdFixture('message-created-location')).items[0]).toMatchObject({
      type: 'location',
      content: { location: { latitude: 52.370216, longitude: 4.895168 } },
    });
  });

  it('keys non-phone platforms on the MessageBird contact id, named from the contact object', () => {
    expect(parse(messageBirdFixture('message-created-telegram-platform')).items).toEqual([
      {
        kind: 'message',
        providerMessageId: 'd1e2f3a4b5c64d7e8f9a0b1c2d3e4f5a',
        contact: { key: 'messagebird', value: '481516234' },
        contactName: 'Ada Lovelace',
        from: '481516234',
        to: 'roost_support_bot',
        type: 'text',
        content: { text: 'Hi from Telegram' },
      },
    ]);
  });

  it('falls back to the channel number for `to`, and to the channel id without one', () => {
    const noTo = webhookPayload('message-created-text', { to: undefined });
    expect(parse(noTo).items[0]).toMatchObject({ to: '+3197010260000' });
    const plain = ctxFor(channel());
    expect(messagebirdConnector.parse(request(plain.inboundUrl, noTo), plain).items[0]).toMatchObject({ to: MB_CHANNEL });
  });

  it('turns message.updated of a sent message into a status update', () => {
    expect(parse(messageBirdFixture('message-updated-delivered')).items).toEqual([
      { kind: 'status', providerMessageId: 'e4f5a6b7c8d94e0f1a2b3c4d5e6f7a8b', status: 'delivered' },
    ]);
    expect(parse(messageBirdFixture('message-updated-failed')).items).toEqual([
      {
        kind: 'status',
        providerMessageId: 'f6a7b8c9d0e14f2a3b4c5d6e7f8a9b0c',
        status: 'failed',
        error: { code: 302, description: 'The contact is not registered on WhatsApp.' },
      },
    ]);
  });

  it('treats message.created of a sent message as its first status', () => {
    expect(parse(messageBirdFixture('message-created-sent')).items).toEqual([
      { kind: 'status', providerMessageId: 'e4f5a6b7c8d94e0f1a2b3c4d5e6f7a8b', status: 'pending' },
    ]);
  });

  it.each([
    ['accepted', 'pending'],
    ['pending', 'pending'],
    ['buffered', 'pending'],
    ['transmitted', 'sent'],
    ['sent', 'sent'],
    ['delivered', 'delivered'],
    ['read', 'read'],
    ['failed', 'failed'],
    ['rejected', 'failed'],
    ['delivery_failed', 'failed'],
    ['expired', 'failed'],
  ])('maps conversation status %s to %s', (wire, status) => {
    const [item] = parse(webhookPayload('message-updated-delivered', { status: wire })).items;
    expect(item).toMatchObject({ kind: 'status', status });
    if (status === 'failed') expect((item as StatusUpdate).error).toEqual({ code: 0, description: `MessageBird reported ${wire}` });
    else expect((item as StatusUpdate).error).toBeUndefined();
  });

  it('takes the Roost message id from a verified reportUrl, and only then', () => {
    const id = newId<'message'>();
    const [item] = parse(messageBirdFixture('message-updated-delivered'), ctx.statusCallbackUrl(id)).items;
    expect((item as StatusUpdate).messageId).toBe(id);
    const forged = ctx.statusCallbackUrl(id).replace(/token=[^&]+/, 'token=forged');
    expect((parse(messageBirdFixture('message-updated-delivered'), forged).items[0] as StatusUpdate).messageId).toBeUndefined();
  });

  it('acknowledges and drops conversation events, updates of received messages, other channels, unknown statuses and types', () => {
    expect(parse(messageBirdFixture('conversation-created')).items).toEqual([]);
    expect(parse({ type: 'conversation.updated', conversation: {} }).items).toEqual([]);
    expect(parse(webhookPayload('message-created-text', {})).items).toHaveLength(1);
    expect(parse({ ...messageBirdFixture('message-created-text'), type: 'message.updated' }).items).toEqual([]);
    expect(parse(webhookPayload('message-created-text', { channelId: 'another-channel' })).items).toEqual([]);
    expect(parse(webhookPayload('message-updated-delivered', { status: 'clicked' })).items).toEqual([]);
    expect(parse(webhookPayload('message-created-text', { type: 'interactive', content: { interactive: { type: 'button_reply' } } })).items).toEqual([]);
  });

  it.each([
    ['not JSON', '{"type": '],
    ['a JSON array', '[1]'],
    ['no type', { message: messageBirdFixture('message-created-text').message }],
    ['no message', { type: 'message.created' }],
    ['a message without id', webhookPayload('message-created-text', { id: undefined })],
    ['a received message without from (seed 000 verbatim)', webhookPayload('message-created-text', { from: undefined, to: undefined, platform: undefined })],
    ['an unknown direction', webhookPayload('message-created-text', { direction: 'sideways' })],
    ['text that is not a string', webhookPayload('message-created-text', { content: { text: 5 } })],
    ['content that is not an object', webhookPayload('message-created-text', { content: 'hi' })],
    ['media without url', webhookPayload('message-created-image', { content: { image: { caption: 'x' } } })],
    ['a javascript: media url', webhookPayload('message-created-image', { content: { image: { url: 'javascript:alert(1)' } } })],
    ['a data: media url', webhookPayload('message-created-image', { content: { image: { url: ' DATA:text/html,<script>' } } })],
    ['a location out of range', webhookPayload('message-created-location', { content: { location: { latitude: 0, longitude: 200 } } })],
  ])('refuses a webhook with %s as bad_request', (_what, body) => {
    expect(thrown(() => parse(body)).kind).toBe('bad_request');
  });
});

// ---- parse: SMS status reports ----------------------------------------------------------

describe('messagebird parse (SMS status reports)', () => {
  const ch = channel();
  const ctx = ctxFor(ch);
  const get = (params: Record<string, string>, base = ctx.inboundUrl) =>
    messagebirdConnector.parse(request(withQuery(base, params), undefined, { method: 'GET' }), ctx);

  it('maps a delivered report and answers OK in plain text', () => {
    expect(get(DLR_DELIVERED)).toEqual({
      items: [{ kind: 'status', providerMessageId: 'e8077d803532c0b5937c639b60216938', status: 'delivered' }],
      response: { status: 200, contentType: 'text/plain; charset=utf-8', body: 'OK' },
    });
  });

  it('carries statusErrorCode and statusReason of a failed report', () => {
    expect(get(DLR_FAILED).items).toEqual([
      { kind: 'status', providerMessageId: 'e8077d803532c0b5937c639b60216938', status: 'failed', error: { code: 1, description: 'unknown subscriber' } },
    ]);
    const bare = get({ id: 'x1', status: 'expired' }).items[0];
    expect(bare).toMatchObject({ status: 'failed', error: { code: 0, description: 'expired' } });
  });

  it.each([
    ['scheduled', 'pending'],
    ['buffered', 'pending'],
    ['sent', 'sent'],
    ['delivered', 'delivered'],
    ['expired', 'failed'],
    ['delivery_failed', 'failed'],
  ])('maps SMS status %s to %s', (wire, status) => {
    expect(get({ ...DLR_DELIVERED, status: wire }).items[0]).toMatchObject({ kind: 'status', status });
  });

  it('reads a Roost message id from reference or from the reportUrl token', () => {
    const id = newId<'message'>();
    expect((get({ ...DLR_DELIVERED, reference: id }).items[0] as StatusUpdate).messageId).toBe(id);
    const other = newId<'message'>();
    expect((get({ ...DLR_DELIVERED, reference: other }, ctx.statusCallbackUrl(id)).items[0] as StatusUpdate).messageId).toBe(id);
    expect((get(DLR_DELIVERED).items[0] as StatusUpdate).messageId).toBeUndefined();
  });

  it('acknowledges an unknown status without an item', () => {
    expect(get({ ...DLR_DELIVERED, status: 'teleported' })).toEqual({ items: [], response: { status: 200, contentType: 'text/plain; charset=utf-8', body: 'OK' } });
  });

  it('reads a form-encoded POST report like a GET one', () => {
    const body = new URLSearchParams(DLR_DELIVERED).toString();
    const req = request(ctx.inboundUrl, body, { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(messagebirdConnector.parse(req, ctx)).toMatchObject({ items: [{ kind: 'status', status: 'delivered' }], response: { body: 'OK' } });
  });

  it('refuses a report without id or status as bad_request', () => {
    expect(thrown(() => get({ status: 'delivered' })).kind).toBe('bad_request');
    expect(thrown(() => get({ id: 'abc' })).kind).toBe('bad_request');
    expect(thrown(() => get({})).kind).toBe('bad_request');
  });
});

// ---- identifiers ------------------------------------------------------------------------

describe('messagebird addresses', () => {
  it('identifies phone numbers, and other platform ids as MessageBird contacts', () => {
    expect(messagebirdConnector.identifierFor('+31 6 12345678')).toEqual({ key: 'phonenumber', value: '+31612345678' });
    expect(messagebirdConnector.identifierFor('31612345678')).toEqual({ key: 'phonenumber', value: '+31612345678' });
    expect(messagebirdConnector.identifierFor('psid-2983749823749823')).toEqual({ key: 'messagebird', value: 'psid-2983749823749823' });
    expect(messagebirdConnector.identifierFor(' padded ')).toBeUndefined();
    expect(messagebirdConnector.identifierFor('')).toBeUndefined();
  });

  it('sends from the channel number, else the MessageBird channel id', () => {
    expect(messagebirdConnector.ownAddress(channel({ fromNumber: '+3197010260000' }))).toBe('+3197010260000');
    expect(messagebirdConnector.ownAddress(channel())).toBe(MB_CHANNEL);
  });
});

// ---- send -------------------------------------------------------------------------------

describe('messagebird send', () => {
  const { fake, http } = useFakeProvider(startFakeMessageBird);

  const send = (ch: Channel, msg: Message, client: HttpClient = http) => messagebirdConnector.send({ message: msg, channel: ch, ctx: ctxFor(ch) }, client);

  it('posts to /send with the access key, the channel id as from, and a reportUrl', async () => {
    const ch = channel({ baseUrl: fake.url });
    const msg = message(ch, 'text', { text: 'Thanks, we are on it.' });
    const outcome = await send(ch, msg);
    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/v1/send');
    expect(req!.headers.authorization).toBe(`AccessKey ${ACCESS_KEY}`);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.body).toEqual({
      to: '+31612345678',
      from: MB_CHANNEL,
      type: 'text',
      content: { text: 'Thanks, we are on it.' },
      reportUrl: ctxFor(ch).statusCallbackUrl(msg.id),
    });
    expect(outcome).toMatchObject({ kind: 'accepted', status: 'pending', providerMessageId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('passes media, location and hsm content through as MessageBird content', async () => {
    const ch = channel({ baseUrl: fake.url });
    const contents: Array<[MessageType, MessageContent]> = [
      ['image', { image: { url: 'https://example.com/cat.png', caption: 'A cat' } }],
      ['location', { location: { latitude: 52.37, longitude: 4.89 } }],
      ['hsm', { hsm: { namespace: 'ns', templateName: 'order_update', language: { policy: 'deterministic', code: 'en' }, params: [] } }],
    ];
    for (const [type, content] of contents) await send(ch, message(ch, type, content));
    expect(fake.requests.map((r) => [(r.body as Record<string, unknown>).type, (r.body as Record<string, unknown>).content])).toEqual(contents);
  });

  it('reads both answer shapes, the recorded ones included', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 202, json: messageBirdFixture('send-response') }));
    expect(await send(ch, message(ch, 'text', { text: 'a' }))).toEqual({ kind: 'accepted', providerMessageId: '2e15efafec384e1c82e9842075e87beb', status: 'pending' });
    fake.respondWith(() => ({ status: 200, json: messageBirdFixture('send-response-node') }));
    expect(await send(ch, message(ch, 'text', { text: 'b' }))).toEqual({ kind: 'accepted', providerMessageId: '5f6e1c2a9b8d4e7f0a1b2c3d4e5f6a7b', status: 'pending' });
    fake.respondWith(() => ({ status: 202, json: { id: 'm-sent', status: 'sent' } }));
    expect(await send(ch, message(ch, 'text', { text: 'c' }))).toEqual({ kind: 'accepted', providerMessageId: 'm-sent', status: 'sent' });
  });

  it('keeps a path prefix of baseUrl', async () => {
    const ch = channel({ baseUrl: `${fake.url}/proxy` });
    await send(ch, message(ch, 'text', { text: 'hi' }));
    expect(fake.requests[0]!.path).toBe('/v1/proxy/send');
  });

  it('fails with the first MessageBird error on 4xx', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 422, json: messageBirdFixture('send-error') }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 21, description: 'The contact is not reachable on this channel' } });
    fake.respondWith(() => messageBirdErrors(401, 2, 'Request not allowed (incorrect access_key)'));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 2, description: 'Request not allowed (incorrect access_key)' } });
    fake.respondWith(() => ({ status: 400 }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 400, description: 'MessageBird answered 400' } });
  });

  it('fails a 2xx that reports the message rejected', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 202, json: { id: 'm-1', status: 'rejected', error: { code: 301, description: 'Template not approved' } } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 301, description: 'Template not approved' } });
  });

  it('retries 429 honouring retry-after, 5xx and a 2xx without id', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ ...messageBirdErrors(429, 429, 'Too many requests'), headers: { 'retry-after': '2' } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'retry', error: { code: 429, description: 'Too many requests' }, retryAfterMs: 2000 });
    fake.respondWith(() => messageBirdErrors(500, 99, 'Internal error'));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'retry', error: { code: 99, description: 'Internal error' } });
    fake.respondWith(() => ({ status: 503 }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'retry', error: { code: 503, description: 'MessageBird answered 503' } });
    fake.respondWith(() => ({ status: 202, json: { status: 'accepted' } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toMatchObject({ kind: 'retry', error: { code: 0 } });
  });

  it('retries when nothing listens on the port', async () => {
    const ch = channel({ baseUrl: `http://127.0.0.1:${await closedPort()}/v1` });
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toMatchObject({ kind: 'retry', error: { code: 0 } });
  });

  it('fails for good on a refused private address and without credentials', async () => {
    await withStrictHttpClient(async (strict) => {
      const ch = channel({ baseUrl: fake.url });
      expect(await send(ch, message(ch, 'text', { text: 'hi' }), strict)).toMatchObject({ kind: 'failed', error: { code: 0 } });
    });
    const bare = channel({ baseUrl: fake.url }, { accessKey: '' });
    expect(await send(bare, message(bare, 'text', { text: 'hi' }))).toMatchObject({ kind: 'failed' });
    expect(fake.requests).toHaveLength(0);
  });
});
