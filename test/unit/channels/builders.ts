/**
 * Scaffolding shared by the channel connector unit tests: the records, contexts and
 * requests a connector is handed, the outbound messages it sends, error capture, and the
 * HTTP set-up of the send tests. Every builder is parameterised by what differs per
 * platform (platform id, default settings and secrets, addresses, URLs); each test file
 * binds its own defaults in one-line wrappers (`channel()`, `ctxFor()`, `message()`, …).
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { ChannelContext, InboundRequest } from '../../../src/channels/connector.js';
import type { MessageContent, MessageType } from '../../../src/domain/content.js';
import { RoostError } from '../../../src/domain/errors.js';
import { newId } from '../../../src/domain/ids.js';
import type { MessageId } from '../../../src/domain/ids.js';
import type { Channel, KeyMode, Message } from '../../../src/domain/records.js';
import { createHttpClient } from '../../../src/net/http-client.js';
import type { HttpClient, HttpClientOptions } from '../../../src/net/http-client.js';
import type { FakeApi } from '../../helpers/fake-provider.js';

// ---- channels ---------------------------------------------------------------------------

type Settings = Record<string, unknown>;
type Secrets = Record<string, string>;

/** An active channel of `platformId` with exactly these settings and secrets. */
export function channelOf(platformId: string, settings: Settings, secrets: Secrets, name = platformId): Channel {
  return {
    id: newId<'channel'>(),
    workspaceId: newId<'workspace'>(),
    name,
    platformId,
    status: 'active',
    settings,
    secrets,
    createdAt: Date.now(),
    updatedAt: null,
  };
}

/**
 * A `channel(settings?, secrets?)` builder for one platform: what a test passes is laid
 * over the platform's defaults, key by key.
 */
export function channelBuilder(
  platformId: string, defaults: { name?: string; settings: Settings; secrets: Secrets },
): (settings?: Settings, secrets?: Secrets) => Channel {
  return (settings = {}, secrets = {}) =>
    channelOf(platformId, { ...defaults.settings, ...settings }, { ...defaults.secrets, ...secrets }, defaults.name);
}

// ---- contexts ---------------------------------------------------------------------------

/** How the status-callback tokens of a test context are made; `never`: a fixed `t` that never verifies. */
export type TokenStyle = 'base64url' | 'hex' | 'never';

/** The status-callback token of a message, an HMAC of its id under a test key (base64url: as the core makes it). */
export function callbackToken(messageId: string, style: Exclude<TokenStyle, 'never'> = 'base64url'): string {
  const hmac = createHmac('sha256', 'test-key').update(messageId);
  return style === 'hex' ? hmac.digest('hex') : hmac.digest('base64url').slice(0, 32);
}

export interface ContextOptions {
  /** Default `https://roost.example/inbound/{channel id}`. */
  inboundUrl?: string;
  /** The URL status callbacks go to before `?message=&token=`; default the inbound URL. */
  statusUrl?: string;
  /** Default `base64url`. */
  tokens?: TokenStyle;
}

/** The ChannelContext the core would hand a connector for `ch`. */
export function contextFor(ch: Channel, opts: ContextOptions = {}): ChannelContext {
  const inboundUrl = opts.inboundUrl ?? `https://roost.example/inbound/${ch.id}`;
  const statusUrl = opts.statusUrl ?? inboundUrl;
  const style = opts.tokens ?? 'base64url';
  return {
    channel: ch,
    inboundUrl,
    statusCallbackUrl: (id: MessageId) => `${statusUrl}?message=${id}&token=${style === 'never' ? 't' : callbackToken(id, style)}`,
    verifyCallbackToken: (id, token) => style !== 'never' && token === callbackToken(id, style),
  };
}

// ---- inbound requests -------------------------------------------------------------------

export const JSON_TYPE = 'application/json';
export const FORM_TYPE = 'application/x-www-form-urlencoded';

export interface RequestOptions {
  /** Default POST. */
  method?: string;
  /** Laid over the content-type header. */
  headers?: Record<string, string | undefined>;
  /** Default `application/json`; null: no content-type header. */
  contentType?: string | null;
}

/**
 * A request to `url` as the HTTP layer hands it to a connector: the query read from the
 * URL, the body as raw bytes (a Buffer or string as given, undefined as empty, anything
 * else as JSON).
 */
export function inboundRequest(url: string, body?: unknown, opts: RequestOptions = {}): InboundRequest {
  const rawBody = Buffer.isBuffer(body)
    ? body
    : Buffer.from(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  const contentType = opts.contentType === undefined ? JSON_TYPE : opts.contentType;
  return {
    method: opts.method ?? 'POST',
    url,
    headers: { ...(contentType === null ? {} : { 'content-type': contentType }), ...opts.headers },
    query: Object.fromEntries(new URL(url).searchParams),
    rawBody,
  };
}

// ---- outbound messages ------------------------------------------------------------------

/** A message Roost accepted for sending on `ch` (platform: the channel's), from `from` to `to`. */
export function outboundMessage(
  ch: Channel, type: MessageType, content: MessageContent, addr: { from: string; to: string; mode?: KeyMode },
): Message {
  return {
    id: newId<'message'>(),
    workspaceId: ch.workspaceId,
    conversationId: newId<'conversation'>(),
    channelId: ch.id,
    platform: ch.platformId,
    direction: 'sent',
    status: 'accepted',
    type,
    content,
    from: addr.from,
    to: addr.to,
    providerMessageId: null,
    mode: addr.mode ?? 'live',
    error: null,
    source: null,
    tag: null,
    reportUrl: null,
    createdAt: Date.now(),
    updatedAt: null,
  };
}

// ---- errors -----------------------------------------------------------------------------

/** The RoostError `fn` throws; fails the test when it throws something else or nothing. */
export function thrown(fn: () => unknown): RoostError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RoostError);
    return err as RoostError;
  }
  throw new Error('expected a RoostError');
}

/** The RoostError `promise` rejects with; fails the test when it rejects with something else or resolves. */
export async function rejected(promise: Promise<unknown>): Promise<RoostError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(RoostError);
    return err as RoostError;
  }
  throw new Error('expected a RoostError');
}

// ---- network ----------------------------------------------------------------------------

/** The client options of the send tests: private addresses allowed (the fakes listen on 127.0.0.1). */
export const TEST_HTTP_OPTIONS: HttpClientOptions = { allowPrivate: true, defaultTimeoutMs: 2000, maxResponseBytes: 65536, connectionsPerOrigin: 4 };

/**
 * `get()` as an object usable before it exists: every property read goes to the object
 * `get()` returns at that moment (methods bound to it). Lets a describe block name what
 * its beforeAll hook only creates later.
 */
function lateBound<T extends object>(get: () => T): T {
  return new Proxy({} as T, {
    get(_target, key) {
      const target = get();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Starts a provider fake and a test HTTP client before the tests of the enclosing
 * describe block, forgets recorded requests and answer overrides after each test, and
 * closes both after the block. Returns both, usable once the block's tests run.
 */
export function useFakeProvider<F extends FakeApi<unknown>>(start: () => Promise<F>): { fake: F; http: HttpClient } {
  let fake: F | undefined;
  let http: HttpClient | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the fake provider is only started once the tests of its describe block run');
    return value;
  };
  beforeAll(async () => {
    fake = await start();
    http = createHttpClient(TEST_HTTP_OPTIONS);
  });
  afterAll(async () => {
    await http?.close();
    await fake?.close();
  });
  afterEach(() => {
    started(fake).requests.length = 0;
    started(fake).respondWith(undefined);
  });
  return { fake: lateBound(() => started(fake)), http: lateBound(() => started(http)) };
}

/** Runs `fn` with a client that refuses private addresses (as production does), closing it after. */
export async function withStrictHttpClient(fn: (strict: HttpClient) => Promise<void>): Promise<void> {
  const strict = createHttpClient({ ...TEST_HTTP_OPTIONS, allowPrivate: false });
  try {
    await fn(strict);
  } finally {
    await strict.close();
  }
}

/** A port on 127.0.0.1 nothing listens on. */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
