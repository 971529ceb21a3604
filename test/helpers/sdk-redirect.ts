import http from 'node:http';
import type { ClientRequest, OutgoingHttpHeaders, RequestOptions } from 'node:http';
import type * as HttpsNamespace from 'node:https';
import { createRequire } from 'node:module';

/**
 * Points the official `messagebird` Node SDK (4.0.1) at a local Roost.
 *
 * The SDK hard-codes its hosts and calls `https.request(options)` at call time on the
 * object it got from `require('https')` (reference doc §2.2). `createRequire` returns the
 * very same CommonJS module object, so replacing its `request` property redirects every
 * SDK call. Only requests for MessageBird hosts are redirected; anything else goes to
 * the original function untouched.
 */

export interface RecordedRequest {
  method: string;
  /** Path plus query string, exactly as the SDK built it. */
  path: string;
  /** The host the SDK meant to reach (e.g. conversations.messagebird.com). */
  originalHost: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** Request body as written by the SDK ('' when none). */
  body: string;
}

export interface SdkRedirect {
  requests: RecordedRequest[];
  restore(): void;
}

type HttpsModule = typeof HttpsNamespace;

const MESSAGEBIRD_HOST = /(^|\.)messagebird\.com$/;

function lowerHeaders(h: OutgoingHttpHeaders | readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h || Array.isArray(h)) return out;
  for (const [k, v] of Object.entries(h as OutgoingHttpHeaders)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

export function redirectMessageBirdSdk(port: number, hostname = '127.0.0.1'): SdkRedirect {
  const https = createRequire(import.meta.url)('https') as HttpsModule;
  const original = https.request;
  const requests: RecordedRequest[] = [];
  // A private agent without keep-alive: the SDK adds a 'timeout' listener to the socket on
  // every request, so pooled sockets would pile up listeners and stale abort() handlers.
  const agent = new http.Agent({ keepAlive: false });

  function redirected(this: unknown, ...args: unknown[]): ClientRequest {
    const [first] = args;
    const opts = first as RequestOptions | undefined;
    // The SDK only ever passes a single options object; leave any other call shape alone.
    const target = opts && typeof opts === 'object' && !(opts instanceof URL) ? (opts.hostname ?? opts.host ?? '') : '';
    if (args.length !== 1 || !opts || !MESSAGEBIRD_HOST.test(String(target))) {
      return (original as (...a: unknown[]) => ClientRequest).apply(this, args);
    }
    const record: RecordedRequest = {
      method: opts.method ?? 'GET',
      path: opts.path ?? '/',
      originalHost: String(target),
      headers: lowerHeaders(opts.headers),
      body: '',
    };
    requests.push(record);
    const req = http.request({ ...opts, protocol: 'http:', hostname, host: undefined, port, agent });
    // Capture the body the SDK sends (4.0.1 passes it to end(); write() is covered too).
    const capture = (chunk: unknown) => {
      if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) record.body += chunk.toString();
    };
    const write = req.write.bind(req) as (...a: unknown[]) => boolean;
    const end = req.end.bind(req) as (...a: unknown[]) => ClientRequest;
    req.write = ((chunk: unknown, ...rest: unknown[]) => {
      capture(chunk);
      return write(chunk, ...rest);
    }) as ClientRequest['write'];
    req.end = ((chunk?: unknown, ...rest: unknown[]) => {
      capture(chunk);
      return end(chunk, ...rest);
    }) as ClientRequest['end'];
    return req;
  }

  https.request = redirected as HttpsModule['request'];
  return {
    requests,
    restore() {
      https.request = original;
      agent.destroy();
    },
  };
}
