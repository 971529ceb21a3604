import { createSecretKey } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RESPONSE_EXCERPT_BYTES, attemptDelivery, signedHeaders } from '../../../src/delivery/attempt.js';
import { parseRetryAfter } from '../../../src/net/retry-after.js';
import { JWT_HEADER_NAME } from '../../../src/delivery/signing/messagebird-jwt.js';
import {
  LEGACY_SIGNATURE_HEADER, LEGACY_TIMESTAMP_HEADER, verifyMessageBirdLegacy,
} from '../../../src/delivery/signing/messagebird-legacy.js';
import { standardWebhooksSecret } from '../../../src/delivery/signing/standard-webhooks.js';
import { newId } from '../../../src/domain/ids.js';
import type { Delivery } from '../../../src/domain/records.js';
import { createHttpClient } from '../../../src/net/http-client.js';
import type { HttpClient } from '../../../src/net/http-client.js';
import type { ClaimedDelivery } from '../../../src/store/store.js';

const require = createRequire(import.meta.url);
/** MessageBird's own verifier (messagebird-nodejs, lib/webhook-signature-jwt.js). */
const officialJwt = require('messagebird/lib/webhook-signature-jwt') as {
  verify(url: string, payload: Buffer | null, jwt: string, key: unknown, opts?: unknown): Promise<boolean>;
};
/** MessageBird's own (deprecated) legacy verifier (messagebird-nodejs, lib/signature.js). */
const officialLegacy = require('messagebird/lib/signature') as {
  validate(req: { headers: Record<string, string>; query: Record<string, string>; body: string }, signingKey: string): boolean;
};

const SIGNING_KEY = 'roost-signing-key-0123456789abcdef';
const PAYLOAD = JSON.stringify({
  type: 'message.created',
  conversation: { id: 'f1e812e9afd6a875d813d51f45823edd', status: 'active' },
  message: { id: '93a1f7ba935c4ee298cb5ef952052ea7', content: { text: 'Grüße 👋 & <tags>' } },
});

function claimFor(url: string, over: Partial<Delivery> = {}): ClaimedDelivery {
  const delivery: Delivery = {
    id: newId(),
    workspaceId: newId(),
    webhookId: newId(),
    eventId: newId(),
    eventType: 'message.created',
    conversationId: newId(),
    state: 'pending',
    attempts: 1,
    nextAttemptAt: 0,
    lastStatusCode: null,
    lastError: null,
    createdAt: 0,
    updatedAt: 0,
    ...over,
  };
  return { delivery, url, payload: PAYLOAD, signingKey: SIGNING_KEY, lockedUntil: 0 };
}

/** Options of the official verify(), with jose's clock set to `ms` so fixed times verify. */
function officialOptions(ms: number) {
  return {
    validateUrl: true,
    validatePayload: true,
    jwtVerifyOptions: { issuer: 'MessageBird', algorithms: ['HS256', 'HS384', 'HS512'], clockTolerance: 5, currentDate: new Date(ms) },
    jwtVerifyJti: () => true,
  };
}
const officialKey = createSecretKey(Buffer.from(SIGNING_KEY, 'utf8'));
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

// ---- parseRetryAfter ----------------------------------------------------------------------

describe('parseRetryAfter', () => {
  const NOW = Date.parse('2026-01-31T12:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('1', NOW)).toBe(1_000);
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 30 ', NOW)).toBe(30_000);
    expect(parseRetryAfter('86400', NOW)).toBe(86_400_000);
  });

  it('reads an HTTP date as the time left until it', () => {
    expect(parseRetryAfter('Sat, 31 Jan 2026 12:02:00 GMT', NOW)).toBe(120_000);
    expect(parseRetryAfter(new Date(NOW + 3_600_000).toUTCString(), NOW)).toBe(3_600_000);
    // The obsolete forms RFC 9110 still asks recipients to accept.
    expect(parseRetryAfter('Saturday, 31-Jan-26 12:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Sat Jan 31 12:00:45 2026', NOW)).toBeTypeOf('number');
  });

  it('reads a date in the past as no wait at all', () => {
    expect(parseRetryAfter('Fri, 30 Jan 2026 12:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:00 GMT', NOW)).toBe(0);
  });

  it('ignores an absent, empty or unreadable value', () => {
    for (const v of [undefined, '', '   ', 'soon', 'abc', '120 seconds', '12abc', '0x10', 'now', 'Retry later']) {
      expect(parseRetryAfter(v, NOW), JSON.stringify(v)).toBeUndefined();
    }
  });

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['7', '99'], NOW)).toBe(7_000);
    expect(parseRetryAfter(['Sat, 31 Jan 2026 12:00:10 GMT', '1'], NOW)).toBe(10_000);
    expect(parseRetryAfter([], NOW)).toBeUndefined();
    expect(parseRetryAfter(['garbage', '5'], NOW)).toBeUndefined();
  });

  // BUG (src/delivery/attempt.ts, parseRetryAfter): any string V8's lenient Date.parse
  // accepts is taken for an HTTP date, so "later 2030" or "1.5" become dates. Retry-After is
  // delay-seconds or an IMF-fixdate (RFC 9110 §10.2.3); anything else must be ignored.
  // Remove `.fails` once fixed.
  it('ignores strings that are neither delay-seconds nor an HTTP date (V8 parses them leniently)', () => {
    for (const v of ['later 2030', 'Foo 2099', '1.5', '-1', 'soon 1']) {
      expect(parseRetryAfter(v, NOW), JSON.stringify(v)).toBeUndefined();
    }
  });
});

// ---- signedHeaders ------------------------------------------------------------------------

describe('signedHeaders', () => {
  const URL_WITH_QUERY = 'https://hooks.example.com/roost/in?b=2&a=1&note=caf%C3%A9%20%26%20more&empty=';
  const AT = Date.parse('2026-01-31T12:00:00.750Z');

  it('carries the content type, user agent and Roost ids', () => {
    const claim = claimFor(URL_WITH_QUERY, { eventType: 'conversation.updated' });
    const h = signedHeaders(claim, AT);
    expect(h['content-type']).toBe('application/json');
    expect(h['user-agent']).toMatch(/^Roost-Webhooks\//);
    expect(h['x-roost-delivery-id']).toBe(claim.delivery.id);
    expect(h['x-roost-event-type']).toBe('conversation.updated');
  });

  it('signs a MessageBird-Signature-JWT that the official SDK verify() accepts for the exact URL, query included', async () => {
    const claim = claimFor(URL_WITH_QUERY);
    const jwt = signedHeaders(claim, AT)[JWT_HEADER_NAME]!;
    expect(jwt).toBeTruthy();
    await expect(officialJwt.verify(URL_WITH_QUERY, Buffer.from(PAYLOAD), jwt, officialKey, officialOptions(AT))).resolves.toBe(true);
    const claims = claimsOf(jwt);
    expect(claims.iss).toBe('MessageBird');
    expect(claims.nbf).toBe(Math.floor(AT / 1000));
    expect(claims.exp).toBe(Math.floor(AT / 1000) + 60);
  });

  it('binds the JWT to the URL, its query, the body and the key', async () => {
    const jwt = signedHeaders(claimFor(URL_WITH_QUERY), AT)[JWT_HEADER_NAME]!;
    const opts = officialOptions(AT);
    const reordered = 'https://hooks.example.com/roost/in?a=1&b=2&note=caf%C3%A9%20%26%20more&empty=';
    await expect(officialJwt.verify(reordered, Buffer.from(PAYLOAD), jwt, officialKey, opts)).rejects.toThrow(/url_hash/);
    await expect(officialJwt.verify('https://hooks.example.com/roost/in', Buffer.from(PAYLOAD), jwt, officialKey, opts)).rejects.toThrow(/url_hash/);
    await expect(officialJwt.verify(URL_WITH_QUERY, Buffer.from(`${PAYLOAD} `), jwt, officialKey, opts)).rejects.toThrow(/payload_hash/);
    const otherKey = createSecretKey(Buffer.from(`${SIGNING_KEY}x`, 'utf8'));
    await expect(officialJwt.verify(URL_WITH_QUERY, Buffer.from(PAYLOAD), jwt, otherKey, opts)).rejects.toThrow();
    // MessageBird's tokens live 60 s.
    await expect(officialJwt.verify(URL_WITH_QUERY, Buffer.from(PAYLOAD), jwt, officialKey, officialOptions(AT + 120_000))).rejects.toThrow();
  });

  it('signs the legacy MessageBird-Signature over the URL query, verified with the URL query params', () => {
    const h = signedHeaders(claimFor(URL_WITH_QUERY), AT);
    const ts = h[LEGACY_TIMESTAMP_HEADER]!;
    expect(ts).toBe(String(Math.floor(AT / 1000)));
    const query = Object.fromEntries(new URL(URL_WITH_QUERY).searchParams);
    expect(query).toEqual({ b: '2', a: '1', note: 'café & more', empty: '' });
    expect(verifyMessageBirdLegacy(h[LEGACY_SIGNATURE_HEADER]!, ts, query, PAYLOAD, SIGNING_KEY)).toBe(true);
    expect(verifyMessageBirdLegacy(h[LEGACY_SIGNATURE_HEADER]!, ts, { ...query, b: '3' }, PAYLOAD, SIGNING_KEY)).toBe(false);
    expect(verifyMessageBirdLegacy(h[LEGACY_SIGNATURE_HEADER]!, ts, query, `${PAYLOAD} `, SIGNING_KEY)).toBe(false);
    expect(verifyMessageBirdLegacy(h[LEGACY_SIGNATURE_HEADER]!, String(Number(ts) + 1), query, PAYLOAD, SIGNING_KEY)).toBe(false);
  });

  it('signs a legacy signature that the official SDK (lib/signature.js) validates', () => {
    const now = Date.now();
    const h = signedHeaders(claimFor(URL_WITH_QUERY), now);
    const headers = {
      'messagebird-request-timestamp': h[LEGACY_TIMESTAMP_HEADER]!,
      'messagebird-signature': h[LEGACY_SIGNATURE_HEADER]!,
    };
    const query = Object.fromEntries(new URL(URL_WITH_QUERY).searchParams);
    expect(officialLegacy.validate({ headers, query, body: PAYLOAD }, SIGNING_KEY)).toBe(true);
    expect(() => officialLegacy.validate({ headers, query: { ...query, a: '9' }, body: PAYLOAD }, SIGNING_KEY)).toThrow(/not match/);
  });

  it('signs the legacy signature over an empty query when the URL has none', () => {
    const url = 'https://hooks.example.com/plain';
    const h = signedHeaders(claimFor(url), AT);
    expect(verifyMessageBirdLegacy(h[LEGACY_SIGNATURE_HEADER]!, h[LEGACY_TIMESTAMP_HEADER]!, {}, PAYLOAD, SIGNING_KEY)).toBe(true);
  });

  it('signs Standard Webhooks headers that the standardwebhooks library verifies, with webhook-id = the event id', () => {
    const now = Date.now();
    const claim = claimFor(URL_WITH_QUERY);
    const h = signedHeaders(claim, now);
    expect(h['webhook-id']).toBe(claim.delivery.eventId);
    expect(h['webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
    expect(h['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const wh = new StandardWebhook(standardWebhooksSecret(SIGNING_KEY));
    expect(wh.verify(PAYLOAD, h)).toEqual(JSON.parse(PAYLOAD));
    expect(() => wh.verify(`${PAYLOAD} `, h)).toThrow();
    expect(() => wh.verify(PAYLOAD, { ...h, 'webhook-id': claim.delivery.id })).toThrow();
    expect(() => new StandardWebhook(standardWebhooksSecret(`${SIGNING_KEY}x`)).verify(PAYLOAD, h)).toThrow();
  });

  it('signs afresh for every attempt: new timestamps and JWT jti, the same webhook-id', async () => {
    const claim = claimFor(URL_WITH_QUERY);
    const first = signedHeaders(claim, AT);
    const second = signedHeaders(claim, AT + 5_000);
    expect(first['webhook-id']).toBe(claim.delivery.eventId);
    expect(second['webhook-id']).toBe(first['webhook-id']);
    const [a, b] = [claimsOf(first[JWT_HEADER_NAME]!), claimsOf(second[JWT_HEADER_NAME]!)];
    expect(a.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b.jti).not.toBe(a.jti);
    expect(b.nbf).toBe((a.nbf as number) + 5);
    expect(second['webhook-timestamp']).toBe(String(Number(first['webhook-timestamp']) + 5));
    expect(second[LEGACY_TIMESTAMP_HEADER]).toBe(String(Number(first[LEGACY_TIMESTAMP_HEADER]) + 5));
    expect(second['webhook-signature']).not.toBe(first['webhook-signature']);
    await expect(officialJwt.verify(URL_WITH_QUERY, Buffer.from(PAYLOAD), second[JWT_HEADER_NAME]!, officialKey, officialOptions(AT + 5_000)))
      .resolves.toBe(true);
    // Even two attempts in the same second get distinct tokens.
    expect(claimsOf(signedHeaders(claim, AT)[JWT_HEADER_NAME]!).jti).not.toBe(a.jti);
  });

  it('signs with the key of the claim (the workspace key current at claim time)', async () => {
    const claim = { ...claimFor(URL_WITH_QUERY), signingKey: 'rotated-key-abcdefghijklmnopqrstuvwxyz' };
    const jwt = signedHeaders(claim, AT)[JWT_HEADER_NAME]!;
    await expect(officialJwt.verify(URL_WITH_QUERY, Buffer.from(PAYLOAD), jwt, officialKey, officialOptions(AT))).rejects.toThrow();
    const rotated = createSecretKey(Buffer.from(claim.signingKey, 'utf8'));
    await expect(officialJwt.verify(URL_WITH_QUERY, Buffer.from(PAYLOAD), jwt, rotated, officialOptions(AT))).resolves.toBe(true);
  });
});

// ---- attemptDelivery against real local servers ------------------------------------------

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  server: Server;
  base: string;
  received: Received[];
  /** What the next requests get; defaults to 200 "ok". */
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void;
}

const servers: TestServer[] = [];

async function startServer(): Promise<TestServer> {
  const ts: TestServer = {
    server: createServer(),
    base: '',
    received: [],
    handle: (_req, res) => res.end('ok'),
  };
  ts.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      ts.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      ts.handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => ts.server.listen(0, '127.0.0.1', resolve));
  ts.base = `http://127.0.0.1:${(ts.server.address() as AddressInfo).port}`;
  servers.push(ts);
  return ts;
}

async function stopServer(ts: TestServer): Promise<void> {
  ts.server.closeAllConnections();
  await new Promise<void>((resolve) => ts.server.close(() => resolve()));
}

describe('attemptDelivery', () => {
  let http: HttpClient;
  let srv: TestServer;
  const TIMEOUT_MS = 5_000;

  beforeAll(() => {
    http = createHttpClient({ allowPrivate: true, defaultTimeoutMs: TIMEOUT_MS, maxResponseBytes: 65_536, connectionsPerOrigin: 4 });
  });
  afterAll(async () => {
    await http.close();
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await stopServer(s);
  });

  const respond = (status: number, body = '', headers: Record<string, string> = {}) =>
    (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(status, headers);
      res.end(body);
    };

  it('POSTs the payload byte for byte to the exact URL, with headers a receiver can verify', async () => {
    srv = await startServer();
    const url = `${srv.base}/hooks/roost?b=2&a=1&tag=caf%C3%A9`;
    const claim = claimFor(url);
    const now = Date.now();
    expect(await attemptDelivery(http, claim, now, TIMEOUT_MS)).toEqual({ kind: 'acknowledged', statusCode: 200, excerpt: 'ok' });

    expect(srv.received).toHaveLength(1);
    const got = srv.received[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/hooks/roost?b=2&a=1&tag=caf%C3%A9');
    expect(got.body).toBe(PAYLOAD);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-roost-delivery-id']).toBe(claim.delivery.id);
    expect(got.headers['webhook-id']).toBe(claim.delivery.eventId);

    // What a receiver does: rebuild the URL it was called on and verify all three schemes.
    const seenUrl = `http://${got.headers.host}${got.url}`;
    expect(seenUrl).toBe(url);
    const jwt = got.headers['messagebird-signature-jwt'] as string;
    await expect(officialJwt.verify(seenUrl, Buffer.from(got.body), jwt, officialKey, officialOptions(now))).resolves.toBe(true);
    const query = Object.fromEntries(new URL(seenUrl).searchParams);
    expect(verifyMessageBirdLegacy(
      got.headers['messagebird-signature'] as string, got.headers['messagebird-request-timestamp'] as string, query, got.body, SIGNING_KEY,
    )).toBe(true);
    const wh = new StandardWebhook(standardWebhooksSecret(SIGNING_KEY));
    expect(wh.verify(got.body, got.headers as Record<string, string>)).toEqual(JSON.parse(PAYLOAD));
  });

  it('counts 200 and 204 (and any 2xx) as acknowledged', async () => {
    srv = await startServer();
    for (const [status, body] of [[200, '{"received":true}'], [204, ''], [202, 'queued']] as const) {
      srv.handle = respond(status, body);
      expect(await attemptDelivery(http, claimFor(`${srv.base}/h`), Date.now(), TIMEOUT_MS))
        .toEqual({ kind: 'acknowledged', statusCode: status, excerpt: body });
    }
    expect(srv.received).toHaveLength(3);
  });

  it('reports 410 as gone', async () => {
    srv = await startServer();
    srv.handle = respond(410, 'this endpoint is no more');
    expect(await attemptDelivery(http, claimFor(`${srv.base}/h`), Date.now(), TIMEOUT_MS))
      .toEqual({ kind: 'gone', statusCode: 410, excerpt: 'this endpoint is no more' });
  });

  it('reports 500 and 404 as rejected, not overloaded, with no Retry-After', async () => {
    srv = await startServer();
    for (const status of [500, 404, 400, 401]) {
      srv.handle = respond(status, `error ${status}`);
      const r = await attemptDelivery(http, claimFor(`${srv.base}/h`), Date.now(), TIMEOUT_MS);
      expect(r).toEqual({ kind: 'rejected', statusCode: status, excerpt: `error ${status}`, overloaded: false, retryAfterMs: undefined });
    }
  });

  it('reports a redirect as rejected and never follows its Location', async () => {
    srv = await startServer();
    const target = await startServer();
    for (const status of [301, 302, 307, 308]) {
      srv.handle = respond(status, 'moved', { location: `${target.base}/elsewhere` });
      const r = await attemptDelivery(http, claimFor(`${srv.base}/h`), Date.now(), TIMEOUT_MS);
      expect(r).toMatchObject({ kind: 'rejected', statusCode: status, overloaded: false });
    }
    // Give a (wrongly) followed redirect time to arrive.
    await new Promise((r) => setTimeout(r, 50));
    expect(target.received).toEqual([]);
    expect(srv.received).toHaveLength(4);
  });

  it('reports 429 with Retry-After seconds as rejected and overloaded, with the wait', async () => {
    srv = await startServer();
    srv.handle = respond(429, 'slow down', { 'retry-after': '30' });
    expect(await attemptDelivery(http, claimFor(`${srv.base}/h`), Date.now(), TIMEOUT_MS))
      .toEqual({ kind: 'rejected', statusCode: 429, excerpt: 'slow down', overloaded: true, retryAfterMs: 30_000 });
  });

  it('reports 503 with an HTTP-date Retry-After as overloaded, with the time left until that date', async () => {
    srv = await startServer();
    const now = Date.parse('2026-01-31T12:00:00Z');
    srv.handle = respond(503, 'maintenance', { 'retry-after': 'Sat, 31 Jan 2026 12:10:00 GMT' });
    expect(await attemptDelivery(http, claimFor(`${srv.base}/h`), now, TIMEOUT_MS))
      .toEqual({ kind: 'rejected', statusCode: 503, excerpt: 'maintenance', overloaded: true, retryAfterMs: 600_000 });
  });

  it('reports a request that outlives the timeout as unreachable and overloaded', async () => {
    srv = await startServer();
    srv.handle = () => undefined; // never answers
    const started = performance.now();
    const r = await attemptDelivery(http, claimFor(`${srv.base}/slow`), Date.now(), 300);
    const took = performance.now() - started;
    expect(r).toMatchObject({ kind: 'unreachable', overloaded: true });
    expect(r.kind === 'unreachable' && r.error).toMatch(/^timeout: /);
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(TIMEOUT_MS);
    expect(srv.received).toHaveLength(1);
  });

  it('bounds the whole exchange by the timeout: a body that trickles in never outlives it', async () => {
    srv = await startServer();
    const drips: NodeJS.Timeout[] = [];
    srv.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // A byte every 100 ms: never idle long enough for a per-chunk timeout, never done.
      drips.push(setInterval(() => res.write('.'), 100));
    };
    const started = performance.now();
    const r = await attemptDelivery(http, claimFor(`${srv.base}/trickle`), Date.now(), 400);
    const took = performance.now() - started;
    for (const d of drips) clearInterval(d);
    expect(r).toMatchObject({ kind: 'unreachable', overloaded: true });
    expect(r.kind === 'unreachable' && r.error).toMatch(/^timeout: /);
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(1_500);
  });

  it('counts the wait for a free connection against the timeout', async () => {
    srv = await startServer();
    srv.handle = () => undefined; // holds every connection
    // The client keeps 4 connections to an origin: the fifth request waits in undici's queue.
    const held = Array.from({ length: 4 }, () => attemptDelivery(http, claimFor(`${srv.base}/hold`), Date.now(), 1_000));
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    const queued = await attemptDelivery(http, claimFor(`${srv.base}/queued`), Date.now(), 300);
    expect(queued).toMatchObject({ kind: 'unreachable', overloaded: true });
    expect(performance.now() - started).toBeLessThan(800);
    expect(srv.received.map((x) => x.url)).not.toContain('/queued');
    // Nor is it sent once a connection frees up (the held ones time out and close theirs).
    await Promise.all(held);
    await new Promise((r) => setTimeout(r, 200));
    expect(srv.received.map((x) => x.url)).not.toContain('/queued');
  });

  it('reports a refused connection as unreachable, not overloaded', async () => {
    const dead = await startServer();
    const url = `${dead.base}/h`;
    servers.splice(servers.indexOf(dead), 1);
    await stopServer(dead);
    const r = await attemptDelivery(http, claimFor(url), Date.now(), TIMEOUT_MS);
    expect(r).toMatchObject({ kind: 'unreachable', overloaded: false });
    expect(r.kind === 'unreachable' && r.error).toMatch(/^network: .*ECONNREFUSED/);
  });

  it('reports a connection dropped before any answer as unreachable, not overloaded', async () => {
    srv = await startServer();
    srv.handle = (req) => req.socket.destroy();
    const r = await attemptDelivery(http, claimFor(`${srv.base}/h`), Date.now(), TIMEOUT_MS);
    expect(r).toMatchObject({ kind: 'unreachable', overloaded: false });
    expect(r.kind === 'unreachable' && r.error).toMatch(/^network: /);
  });

  it('caps the response excerpt at RESPONSE_EXCERPT_BYTES', async () => {
    expect(RESPONSE_EXCERPT_BYTES).toBe(1024);
    srv = await startServer();
    for (const [status, kind] of [[200, 'acknowledged'], [410, 'gone'], [500, 'rejected']] as const) {
      srv.handle = respond(status, `${'x'.repeat(RESPONSE_EXCERPT_BYTES)}TAIL${'y'.repeat(20_000)}`);
      const r = await attemptDelivery(http, claimFor(`${srv.base}/h`), Date.now(), TIMEOUT_MS);
      expect(r.kind).toBe(kind);
      expect(r.kind !== 'unreachable' && r.excerpt).toBe('x'.repeat(RESPONSE_EXCERPT_BYTES));
    }
    // A body of exactly the cap is kept whole; a shorter one too.
    srv.handle = respond(200, 'z'.repeat(RESPONSE_EXCERPT_BYTES));
    expect(await attemptDelivery(http, claimFor(`${srv.base}/h`), Date.now(), TIMEOUT_MS))
      .toMatchObject({ excerpt: 'z'.repeat(RESPONSE_EXCERPT_BYTES) });
  });

  it('survives a response far larger than the client cap', async () => {
    srv = await startServer();
    srv.handle = respond(500, 'e'.repeat(1_000_000));
    const r = await attemptDelivery(http, claimFor(`${srv.base}/h`), Date.now(), TIMEOUT_MS);
    expect(r).toMatchObject({ kind: 'rejected', statusCode: 500, excerpt: 'e'.repeat(RESPONSE_EXCERPT_BYTES) });
  });

  it('caps a multi-byte excerpt in UTF-8 bytes, without splitting a character', async () => {
    srv = await startServer();
    srv.handle = respond(500, `a${'é€😀'.repeat(2_000)}`);
    const r = await attemptDelivery(http, claimFor(`${srv.base}/h`), Date.now(), TIMEOUT_MS);
    const excerpt = r.kind === 'rejected' ? r.excerpt : '';
    expect(Buffer.byteLength(excerpt, 'utf8')).toBeLessThanOrEqual(RESPONSE_EXCERPT_BYTES);
    expect(Buffer.byteLength(excerpt, 'utf8')).toBeGreaterThan(RESPONSE_EXCERPT_BYTES - 4);
    expect(Buffer.from(excerpt, 'utf8').toString('utf8')).toBe(excerpt); // well-formed
  });

  it('refuses a private address when the client does not allow them, sending nothing', async () => {
    srv = await startServer();
    const guarded = createHttpClient({ allowPrivate: false, defaultTimeoutMs: TIMEOUT_MS, maxResponseBytes: 65_536, connectionsPerOrigin: 4 });
    try {
      const port = new URL(srv.base).port;
      for (const url of [`${srv.base}/h`, `http://localhost:${port}/h`, `http://localhost.:${port}/h`]) {
        const r = await attemptDelivery(guarded, claimFor(url), Date.now(), TIMEOUT_MS);
        expect(r).toMatchObject({ kind: 'unreachable', overloaded: false });
        expect(r.kind === 'unreachable' && r.error).toMatch(/^refused_private_address: /);
      }
    } finally {
      await guarded.close();
    }
    expect(srv.received).toEqual([]);
  });
});
