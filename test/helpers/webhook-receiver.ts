import { createSecretKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import { verifyMessageBirdLegacy } from '../../src/delivery/signing/messagebird-legacy.js';
import { listAll, postInbound } from './e2e-fixtures.js';
import type { Api, Json } from './e2e-fixtures.js';
import { eventually } from './roost-process.js';

/**
 * A real webhook endpoint on 127.0.0.1 for the delivery suites, in the spirit of svix's
 * TestReceiver: it records every request (method, URL, headers, raw body, arrival time)
 * and answers as told, and what it answers can change in the middle of a test:
 *
 *   receiver.respond(500)                        every request gets a 500
 *   receiver.respond(429, { 'retry-after': '2' })
 *   receiver.respondWith((req) => …)             decide per request (status, delay, reset)
 *   receiver.delay(1000)                         a slow endpoint
 *   receiver.failTimes(3)                        the next 3 requests get a 500, then the usual answer
 *   receiver.resetConnections()                  destroy the socket instead of answering
 *   receiver.reset()                             back to an immediate 200
 *
 * Answers that cannot be written (the sender timed out and hung up, or died) are
 * dropped silently: that is the point of several tests.
 */

export interface ReceivedRequest {
  /** 0-based arrival number. */
  seq: number;
  method: string;
  /** Path and query exactly as received (`/hook?a=1`). */
  url: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The exact bytes received. */
  body: Buffer;
  text: string;
  /** The parsed JSON body, or undefined when it is not JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  /** Date.now() when the request line and headers arrived. */
  receivedAt: number;
  /** Date.now() when the body was complete. */
  completedAt: number;
  /** What the receiver did with it (set once decided). */
  answer?: Answer;
}

export type Answer =
  | { status: number; headers?: Record<string, string>; body?: string | Buffer; delayMs?: number }
  | { destroy: true; delayMs?: number };

export type Behaviour = (req: ReceivedRequest) => Answer | Promise<Answer>;

export interface WebhookReceiver {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** `url` + path (a path may carry a query string). */
  urlFor(path: string): string;
  /** Every request so far, in arrival order. */
  requests: ReceivedRequest[];
  /** Requests whose path (without query) is `path`. */
  requestsTo(path: string): ReceivedRequest[];
  /** Answer every following request with this status (and headers, body). */
  respond(status: number, headers?: Record<string, string>, body?: string | Buffer): void;
  /** Decide per request. */
  respondWith(fn: Behaviour): void;
  /** Delay every answer by `ms` (0 to stop delaying); applies on top of respond()/respondWith(). */
  delay(ms: number): void;
  /** The next `n` requests get `status` (500 by default), then the current behaviour again. */
  failTimes(n: number, status?: number): void;
  /** Destroy the socket of every following request instead of answering (until reset/respond). */
  resetConnections(): void;
  /** Back to an immediate 200 `{"ok":true}` with no delay and no queued failures. */
  reset(): void;
  /** Forgets the recorded requests (behaviour is kept). */
  clear(): void;
  /** Requests currently being answered (received, answer not yet written or dropped). */
  inFlight(): number;
  /** The highest inFlight() seen since start or the last clear(). */
  maxInFlight(): number;
  /** Polls until `pred(requests)` is truthy; returns its value. */
  waitFor<T>(pred: (reqs: ReceivedRequest[]) => T | undefined | null | false, timeoutMs?: number, what?: string): Promise<T>;
  /** Waits until at least `n` requests (matching `filter` when given) have arrived. */
  waitForCount(n: number, filter?: (r: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

const OK: Answer = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  let behaviour: Behaviour = () => OK;
  let delayMs = 0;
  let failuresLeft = 0;
  let failureStatus = 500;
  let seq = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const receivedAt = Date.now();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      inFlight--;
    };
    res.on('close', settle);
    res.on('error', () => undefined);
    req.on('error', () => undefined);

    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      const url = req.url ?? '/';
      const parsed = new URL(url, 'http://receiver.invalid');
      const recorded: ReceivedRequest = {
        seq: seq++,
        method: req.method ?? '',
        url,
        path: parsed.pathname,
        query: Object.fromEntries(parsed.searchParams),
        headers: req.headers,
        body,
        text,
        json,
        receivedAt,
        completedAt: Date.now(),
      };
      requests.push(recorded);

      const decide = async (): Promise<Answer> => {
        if (failuresLeft > 0) {
          failuresLeft--;
          return { status: failureStatus, headers: { 'content-type': 'text/plain' }, body: `failing on purpose (${failureStatus})` };
        }
        return behaviour(recorded);
      };
      decide()
        .catch((err: unknown): Answer => ({ status: 500, body: `receiver behaviour threw: ${String(err)}` }))
        .then((answer) => {
          recorded.answer = answer;
          const wait = (answer.delayMs ?? 0) + delayMs;
          const act = () => write(res, answer, settle);
          if (wait <= 0) return act();
          const timer = setTimeout(() => {
            timers.delete(timer);
            act();
          }, wait);
          timers.add(timer);
        });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  server.keepAliveTimeout = 60_000;

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  const receiver: WebhookReceiver = {
    url: base,
    port,
    urlFor: (path) => base + (path.startsWith('/') ? path : `/${path}`),
    requests,
    requestsTo: (path) => requests.filter((r) => r.path === path),
    respond(status, headers, body) {
      const answer: Answer = { status, headers: headers ?? {}, body: body ?? '' };
      behaviour = () => answer;
    },
    respondWith(fn) {
      behaviour = fn;
    },
    delay(ms) {
      delayMs = ms;
    },
    failTimes(n, status = 500) {
      failuresLeft = n;
      failureStatus = status;
    },
    resetConnections() {
      behaviour = () => ({ destroy: true });
    },
    reset() {
      behaviour = () => OK;
      delayMs = 0;
      failuresLeft = 0;
    },
    clear() {
      requests.length = 0;
      maxInFlight = inFlight;
    },
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    async waitFor(pred, timeoutMs = 10_000, what = 'condition') {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const v = pred(requests);
        if (v) return v;
        if (Date.now() > until) {
          throw new Error(`webhook receiver: ${what} not met in ${timeoutMs} ms (${requests.length} requests received)`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async waitForCount(n, filter, timeoutMs = 10_000) {
      return receiver.waitFor((reqs) => {
        const matching = filter ? reqs.filter(filter) : [...reqs];
        return matching.length >= n ? matching : undefined;
      }, timeoutMs, `${n} matching requests`);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const s of sockets) s.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
  return receiver;
}

function write(res: ServerResponse, answer: Answer, settle: () => void): void {
  if (res.destroyed || res.socket === null || res.socket.destroyed) return settle();
  if ('destroy' in answer) {
    res.socket.destroy();
    return settle();
  }
  try {
    res.writeHead(answer.status, answer.headers ?? {});
    res.end(answer.body ?? '');
  } catch {
    settle();
  }
}

/** Convenience filters over recorded webhook requests. */
export const byType = (type: string) => (r: ReceivedRequest) => r.json?.type === type;
export const byConversation = (conversationId: string) => (r: ReceivedRequest) => r.json?.conversation?.id === conversationId;
export const byMessageFrom = (from: string) => (r: ReceivedRequest) => r.json?.message?.from === from;
/** The `x-roost-delivery-id` header (Roost's own delivery id). */
export const deliveryIdOf = (r: ReceivedRequest): string => String(r.headers['x-roost-delivery-id'] ?? '');
/** Standard Webhooks `webhook-id` (the event id, stable across retries). */
export const webhookIdOf = (r: ReceivedRequest): string => String(r.headers['webhook-id'] ?? '');

// ---------------------------------------------------------------------------------------
// Signature checks with independent verifiers: the official MessageBird Node SDK for the
// JWT, the `standardwebhooks` package for Standard Webhooks, and the legacy verifier.

const requireCjs = createRequire(import.meta.url);
const officialJwt = requireCjs('messagebird/lib/webhook-signature-jwt') as {
  verify(url: string, payload: Buffer | null, jwt: string, key: KeyObject, opts?: unknown): Promise<boolean>;
};

const officialLegacy = requireCjs('messagebird/lib/signature') as {
  validate(req: { headers: IncomingHttpHeaders; query: Record<string, string>; body: string }, signingKey: string): boolean;
};

const header = (r: ReceivedRequest, name: string): string => {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
};

export interface SignatureCheck {
  jwt: boolean;
  legacy: boolean;
  /** The legacy pair again, checked by the official SDK's (deprecated) `lib/signature.js` validate(). */
  legacySdk: boolean;
  standard: boolean;
  /** Why a check failed (for assertion messages). */
  errors: string[];
}

/**
 * Verifies the three signatures of one recorded request against `webhookUrl` (the exact
 * URL configured on the webhook, query included) and a signing key.
 */
export async function checkSignatures(r: ReceivedRequest, webhookUrl: string, signingKey: string): Promise<SignatureCheck> {
  const errors: string[] = [];
  let jwt = false;
  try {
    jwt = (await officialJwt.verify(webhookUrl, r.body, header(r, 'messagebird-signature-jwt'), createSecretKey(Buffer.from(signingKey)))) === true;
  } catch (err) {
    errors.push(`jwt: ${String(err)}`);
  }
  const query = Object.fromEntries(new URL(webhookUrl).searchParams);
  const legacy = verifyMessageBirdLegacy(
    header(r, 'messagebird-signature'), header(r, 'messagebird-request-timestamp'), query, r.body, signingKey,
  );
  if (!legacy) errors.push('legacy: signature does not match');
  let legacySdk = false;
  try {
    legacySdk = officialLegacy.validate({ headers: r.headers, query, body: r.body.toString('utf8') }, signingKey) === true;
  } catch (err) {
    errors.push(`legacy (SDK): ${String(err)}`);
  }
  let standard = false;
  try {
    new Webhook(`whsec_${Buffer.from(signingKey).toString('base64')}`).verify(r.body.toString('utf8'), {
      'webhook-id': header(r, 'webhook-id'),
      'webhook-timestamp': header(r, 'webhook-timestamp'),
      'webhook-signature': header(r, 'webhook-signature'),
    });
    standard = true;
  } catch (err) {
    errors.push(`standard: ${String(err)}`);
  }
  return { jwt, legacy, legacySdk, standard, errors };
}

/** The claims of the request's MessageBird-Signature-JWT (not verified: use checkSignatures). */
export function jwtClaimsOf(r: ReceivedRequest): Record<string, unknown> {
  const token = header(r, 'messagebird-signature-jwt');
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export { header as headerOf };

// ---------------------------------------------------------------------------------------
// Webhook management and the delivery log over the real API.

/**
 * Creates webhooks through the API and remembers them, so a suite can delete them after
 * each test (a workspace holds at most 5 generic webhooks).
 */
export function webhookTracker(api: Api) {
  const created = new Set<string>();
  return {
    async create(body: Record<string, unknown>): Promise<Json> {
      const res = await api('POST', '/v1/webhooks', body);
      expect(res.status, res.text).toBe(201);
      created.add(res.json.id as string);
      return res.json;
    },
    forget(id: string): void {
      created.delete(id);
    },
    async removeAll(): Promise<void> {
      for (const id of created) {
        const res = await api('DELETE', `/v1/webhooks/${id}`);
        expect([204, 404], res.text).toContain(res.status);
      }
      created.clear();
    },
  };
}

/** Every delivery of a webhook (newest first), optionally of one status. */
export function deliveriesOf(api: Api, webhookId: string, status?: string): Promise<Json[]> {
  return listAll(api, `/v1/webhooks/${webhookId}/deliveries${status ? `?status=${status}` : ''}`);
}

/** GET /v1/webhooks/{id}/deliveries/{deliveryId}: the delivery with its payload and attemptsLog. */
export async function deliveryDetail(api: Api, webhookId: string, deliveryId: string): Promise<Json> {
  const res = await api('GET', `/v1/webhooks/${webhookId}/deliveries/${deliveryId}`);
  expect(res.status, res.text).toBe(200);
  return res.json;
}

/** Polls the delivery log of a webhook until `pred` holds for it; returns the list. */
export async function waitForDeliveries(
  api: Api, webhookId: string, pred: (deliveries: Json[]) => boolean, timeoutMs = 10_000, what = 'deliveries condition',
): Promise<Json[]> {
  let last: Json[] = [];
  try {
    return await eventually(async () => {
      last = await deliveriesOf(api, webhookId);
      return pred(last) ? last : undefined;
    }, timeoutMs, 50);
  } catch (err) {
    const states = last.map((d: Json) => `${d.event}:${d.status}/${d.attempts}`).join(', ');
    throw new Error(`${what} not met for webhook ${webhookId}; last: [${states}]`, { cause: err });
  }
}

/** POSTs one sandbox inbound message and expects Roost to acknowledge it. */
export async function sayOn(channel: { inboundUrl: string }, from: string, text: string): Promise<void> {
  const res = await postInbound(channel.inboundUrl, { from, text });
  expect(res.status, res.text).toBe(200);
}
