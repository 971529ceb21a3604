import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, errors as undiciErrors } from 'undici';
import { isPrivateAddress } from './address-guard.js';

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
      const url = new URL(req.url);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (!opts.allowPrivate && (isIP(host) ? isPrivateAddress(host) : host === 'localhost')) {
        throw new HttpFailure('refused_private_address', `refusing to connect to private address ${host}`);
      }
      const timeout = req.timeoutMs ?? opts.defaultTimeoutMs;
      try {
        const res = await agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method,
          headers: req.headers,
          body: req.body,
          headersTimeout: timeout,
          bodyTimeout: timeout,
          signal: AbortSignal.timeout(timeout),
        });
        const body = await readCapped(res.body, opts.maxResponseBytes);
        return { status: res.statusCode, headers: res.headers, body };
      } catch (err) {
        throw classify(err);
      }
    },
    close: () => agent.close(),
  };
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, cap: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = cap - size;
    if (room <= 0) break;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    size += Math.min(chunk.length, room);
    if (size >= cap) break;
  }
  body.destroy();
  return Buffer.concat(chunks).toString('utf8');
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
