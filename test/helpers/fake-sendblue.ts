import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for api.sendblue.co on 127.0.0.1: records every request and answers
 * POST /api/send-message like Sendblue does (reference §4.3), unless told otherwise.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

export interface FakeResponse {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

export type Responder = (req: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

export interface FakeSendblue {
  /** Base URL to give a channel as its `baseUrl` setting. */
  url: string;
  requests: RecordedRequest[];
  /** Overrides the answer to every following request; pass undefined to restore the default. */
  respondWith(fn: Responder | undefined): void;
  /** POSTs a Sendblue-format status callback to `callbackUrl`, as Sendblue would. */
  postStatus(callbackUrl: string, payload: Record<string, unknown>, opts?: { signingSecret?: string }): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export interface FakeSendblueOptions {
  /** The account email put in responses. */
  accountEmail?: string;
  /** The first answers, used in order before the responder (e.g. a 500 then the default). */
  queue?: FakeResponse[];
}

export const newMessageHandle = (): string => randomUUID().toUpperCase();

/** A realistic send-message response for one request body. */
export function messageResponse(body: unknown, accountEmail = 'dev@example.com'): Record<string, unknown> {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const now = new Date().toISOString();
  return {
    account_email: accountEmail,
    content: b.content ?? '',
    date_created: now,
    date_updated: now,
    error_code: null,
    error_message: null,
    from_number: b.from_number ?? null,
    is_outbound: true,
    media_url: b.media_url ?? '',
    message_handle: newMessageHandle(),
    number: b.number ?? null,
    send_style: '',
    status: 'QUEUED',
  };
}

export async function startFakeSendblue(opts: FakeSendblueOptions = {}): Promise<FakeSendblue> {
  const requests: RecordedRequest[] = [];
  const queue = [...(opts.queue ?? [])];
  const defaultResponder: Responder = (req) =>
    req.method === 'POST' && req.path === '/api/send-message'
      ? { status: 200, json: messageResponse(req.body, opts.accountEmail) }
      : { status: 404, json: { status: 'ERROR', message: `no route ${req.method} ${req.path}` } };
  let responder: Responder = defaultResponder;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // keep the raw text: a test may want to see what was sent
      }
      const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      requests.push(recorded);
      Promise.resolve(queue.shift() ?? responder(recorded))
        .then((answer) => {
          res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          res.end(answer.json === undefined ? '' : JSON.stringify(answer.json));
        })
        .catch((err: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'ERROR', message: String(err) }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(fn) {
      responder = fn ?? defaultResponder;
    },
    async postStatus(callbackUrl, payload, postOpts = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (postOpts.signingSecret !== undefined) headers['sb-signing-secret'] = postOpts.signingSecret;
      const res = await fetch(callbackUrl, { method: 'POST', headers, body: JSON.stringify(payload) });
      return { status: res.status, body: await res.text() };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A receive-webhook body shaped like the current docs example (reference §4.1). */
export function sendblueInboundPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    accountEmail: 'dev@example.com',
    content: 'Hello!',
    is_outbound: false,
    status: 'RECEIVED',
    error_code: null,
    error_message: null,
    error_reason: null,
    message_handle: newMessageHandle(),
    date_sent: now,
    date_updated: now,
    from_number: '+19998887777',
    number: '+19998887777',
    to_number: '+15122164639',
    was_downgraded: null,
    plan: 'dedicated',
    media_url: '',
    message_type: 'message',
    group_id: '',
    participants: ['+19998887777', '+15122164639'],
    send_style: '',
    opted_out: false,
    error_detail: null,
    sendblue_number: '+15122164639',
    service: 'iMessage',
    group_display_name: null,
    ...overrides,
  };
}

/** A status-callback body shaped like the docs example (reference §4.4). */
export function sendblueStatusPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    accountEmail: 'dev@example.com',
    content: 'Hello world!',
    is_outbound: true,
    status: 'DELIVERED',
    error_code: null,
    error_message: null,
    message_handle: newMessageHandle(),
    date_sent: now,
    date_updated: now,
    from_number: '+15122164639',
    number: '+19998887777',
    to_number: '+19998887777',
    was_downgraded: false,
    plan: 'blue',
    ...overrides,
  };
}
