import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The server half every provider fake (fake-sendblue, fake-twilio, …) is built on: it
 * listens on 127.0.0.1 at a free port, records every request, and answers each from its
 * own queue (when the fake names one, e.g. per recipient), then the shared queue, then the
 * responder: the fake's default, unless a test overrides it. A fake only adds its
 * provider's wire format: how a request is recorded and what its answers look like.
 */

/** What is recorded of every request; each fake adds its decoded body. */
export interface BaseRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/** A request to a JSON API. */
export interface JsonRequest extends BaseRequest {
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

export interface FakeResponse {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

export type ResponderOf<R> = (req: R) => FakeResponse | Promise<FakeResponse>;

/** A queued answer: given as it is, or computed from the request. */
export type QueuedAnswer<R> = FakeResponse | ResponderOf<R>;

export interface ProviderSetup<R extends BaseRequest> {
  /** The recorded request, from the request line and headers and the raw body text. */
  record(base: BaseRequest, text: string): R;
  defaultResponder: ResponderOf<R>;
  /** The body of the 500 answered when a responder throws, in the provider's error shape. */
  errorBody(err: unknown): unknown;
  /** The key of the queue a request is answered from before the shared one (a recipient, a chat). */
  keyOf?(req: R): string;
  /** The first answers, used in order before the responder (e.g. a 500 then the default). */
  queue?: Array<QueuedAnswer<R>>;
}

/** What every fake offers a test; each adds its provider's own queries and webhook calls. */
export interface FakeApi<R> {
  /** Base URL to give a channel as its `baseUrl` setting. */
  url: string;
  requests: R[];
  /** Overrides the answer to every following request; pass undefined to restore the default. */
  respondWith(fn: ResponderOf<R> | undefined): void;
  close(): Promise<void>;
}

export interface FakeProvider<R> {
  /** `http://127.0.0.1:<port>`; a fake appends its API's base path, if any. */
  origin: string;
  requests: R[];
  /** Overrides the answer to every following request; undefined restores the default. */
  respondWith(fn: ResponderOf<R> | undefined): void;
  queue(...answers: Array<QueuedAnswer<R>>): void;
  queueFor(key: string, ...answers: Array<QueuedAnswer<R>>): void;
  close(): Promise<void>;
}

export async function startFakeProvider<R extends BaseRequest>(setup: ProviderSetup<R>): Promise<FakeProvider<R>> {
  const requests: R[] = [];
  const queued = [...(setup.queue ?? [])];
  const perKey = new Map<string, Array<QueuedAnswer<R>>>();
  let responder = setup.defaultResponder;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const base = { method: req.method ?? '', path: req.url ?? '', headers: req.headers };
      const recorded = setup.record(base, Buffer.concat(chunks).toString('utf8'));
      requests.push(recorded);
      const key = setup.keyOf?.(recorded);
      const next = (key === undefined ? undefined : perKey.get(key)?.shift()) ?? queued.shift() ?? responder;
      Promise.resolve(typeof next === 'function' ? next(recorded) : next)
        .then((answer) => {
          res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          res.end(answer.json === undefined ? '' : JSON.stringify(answer.json));
        })
        .catch((err: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify(setup.errorBody(err)));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    respondWith: (fn) => {
      responder = fn ?? setup.defaultResponder;
    },
    queue: (...answers) => {
      queued.push(...answers);
    },
    queueFor: (key, ...answers) => {
      perKey.set(key, [...(perKey.get(key) ?? []), ...answers]);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Records a JSON API request: the body parsed, or kept as raw text (a test may want to see what was sent). */
export function jsonRequest(base: BaseRequest, text: string): JsonRequest {
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the raw text
  }
  return { ...base, body };
}

/** A field of a recorded JSON body as a string ('' when absent): the `to` or `chat_id` a request was for. */
export function bodyField(body: unknown, key: string): string {
  return typeof body === 'object' && body !== null ? String((body as Record<string, unknown>)[key] ?? '') : '';
}

/** What a Roost inbound URL answered a fake playing the provider's webhook side. */
export interface WebhookAnswer {
  status: number;
  contentType: string;
  body: string;
}

export async function webhookAnswerOf(res: Response): Promise<WebhookAnswer> {
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
}
