import { lookup as dnsLookup } from 'node:dns';
import { EventEmitter } from 'node:events';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, errors as undiciErrors } from 'undici';
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
      const timeout = req.timeoutMs ?? opts.defaultTimeoutMs;
      // The whole exchange (waiting for a connection, connecting, headers, body) within
      // `timeout`. undici takes an EventEmitter as its signal: an AbortSignal per request
      // (AbortSignal.timeout) cost ~15 µs of the event loop per webhook delivery, this
      // plain timer ~1 µs. undici acts on an abort only once a request has a connection, so
      // a request still queued for one is given up here (and never sent).
      const deadline = new EventEmitter() as EventEmitter & { aborted: boolean; reason?: Error };
      deadline.aborted = false;
      let expire: (reason: Error) => void = () => undefined;
      const expired = new Promise<never>((_, reject) => (expire = reject));
      const timer = setTimeout(() => {
        deadline.aborted = true;
        deadline.reason = new HttpFailure('timeout', 'request timed out');
        deadline.emit('abort');
        expire(deadline.reason);
      }, timeout);
      try {
        const sent = agent.request({
          origin: target.origin,
          path: target.path,
          method: req.method,
          headers: req.headers,
          body: req.body,
          headersTimeout: timeout,
          bodyTimeout: timeout,
          signal: deadline,
        });
        const res = await Promise.race([sent, expired]).catch((err: unknown) => {
          sent.then((late) => late.body.destroy(), () => undefined);
          throw err;
        });
        const body = await Promise.race([readCapped(res.body, opts.maxResponseBytes), expired]);
        return { status: res.statusCode, headers: res.headers, body };
      } catch (err) {
        throw classify(err);
      } finally {
        clearTimeout(timer);
      }
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

/** The body up to `cap` bytes; the rest is not read (the stream is destroyed). */
function readCapped(body: NodeJS.ReadableStream & { destroy(err?: Error): void }, cap: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      body.removeAllListeners('data');
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    body.on('data', (chunk: Buffer) => {
      const room = cap - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      if (size >= cap) {
        done();
        body.destroy();
      }
    });
    body.on('end', done);
    body.on('error', reject);
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
