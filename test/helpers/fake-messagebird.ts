import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { signMessageBirdJwt } from '../../src/delivery/signing/messagebird-jwt.js';
import { signMessageBirdLegacy } from '../../src/delivery/signing/messagebird-legacy.js';
import { bodyField, jsonRequest, startFakeProvider, webhookAnswerOf } from './fake-provider.js';
import type { FakeApi, FakeResponse, JsonRequest, ResponderOf, WebhookAnswer } from './fake-provider.js';

/**
 * A stand-in for conversations.messagebird.com/v1 on 127.0.0.1: records every request and
 * answers `POST /send` like MessageBird does (202 `{id, status, fallback}`), unless told
 * otherwise. It also plays MessageBird's webhook side: signed conversation webhooks and
 * SMS status reports, sent to a channel's inbound URL.
 */

export type { FakeResponse } from './fake-provider.js';
export type RecordedRequest = JsonRequest;
export type Responder = ResponderOf<RecordedRequest>;
export type Answer = WebhookAnswer;

export interface SignOptions {
  /** Signing clock, Unix seconds (default now). */
  nowSeconds?: number;
  /** The token's `jti` (default a fresh UUID). */
  jti?: string;
}

export interface FakeMessageBird extends FakeApi<RecordedRequest> {
  /** Base URL to give a channel as its `baseUrl` setting (the `/v1` of the real API included). */
  url: string;
  /** The recorded `POST /send` requests. */
  sends(): RecordedRequest[];
  /** Answers used, in order, before the responder. */
  queue(...answers: Array<FakeResponse | Responder>): void;
  /** Like queue, for sends whose `to` is `to` only (used before the shared queue). */
  queueFor(to: string, ...answers: Array<FakeResponse | Responder>): void;
  /** The recorded `POST /send` requests to one recipient. */
  sendsTo(to: string): RecordedRequest[];
  /** The message ids the default answer gave to sends to one recipient, in order. */
  idsFor(to: string): string[];
}

export const newMessageBirdId = (): string => randomBytes(16).toString('hex');

export const messageBirdErrors = (status: number, code: number, description: string, parameter: string | null = null): FakeResponse => ({
  status,
  json: { errors: [{ code, description, parameter }] },
});

export async function startFakeMessageBird(): Promise<FakeMessageBird> {
  const ids = new Map<string, string[]>();
  const recipientOf = (req: RecordedRequest) => bodyField(req.body, 'to');
  const defaultResponder: Responder = (req) => {
    if (req.headers.authorization === undefined || !String(req.headers.authorization).startsWith('AccessKey ')) {
      return messageBirdErrors(401, 2, 'Request not allowed (incorrect access_key)');
    }
    if (req.method === 'POST' && req.path === '/v1/send') {
      const id = newMessageBirdId();
      ids.set(recipientOf(req), [...(ids.get(recipientOf(req)) ?? []), id]);
      return { status: 202, json: { id, status: 'accepted', fallback: null } };
    }
    return messageBirdErrors(404, 20, `no route ${req.method} ${req.path}`);
  };

  const fake = await startFakeProvider<RecordedRequest>({
    record: jsonRequest,
    defaultResponder,
    errorBody: (err) => ({ errors: [{ code: 99, description: String(err), parameter: null }] }),
    keyOf: recipientOf,
  });
  const requests = fake.requests;

  return {
    url: `${fake.origin}/v1`,
    requests,
    sends: () => requests.filter((r) => r.method === 'POST' && r.path === '/v1/send'),
    respondWith: fake.respondWith,
    queue: fake.queue,
    queueFor: fake.queueFor,
    sendsTo: (to) => requests.filter((r) => r.method === 'POST' && r.path.endsWith('/send') && recipientOf(r) === to),
    idsFor: (to) => ids.get(to) ?? [],
    close: fake.close,
  };
}

// ---- MessageBird's webhook side -------------------------------------------------------

/** `url` with `params` appended to its query, as MessageBird calls a reportUrl; normalised as fetch sends it. */
export function withQuery(url: string, params: Record<string, string>): string {
  const query = new URLSearchParams(params).toString();
  return new URL(query === '' ? url : `${url}${url.includes('?') ? '&' : '?'}${query}`).href;
}

/** The `MessageBird-Signature-JWT` header for one request. */
export function jwtHeader(url: string, body: string, signingKey: string, o: SignOptions = {}): Record<string, string> {
  const now = o.nowSeconds ?? Math.floor(Date.now() / 1000);
  return { 'MessageBird-Signature-JWT': signMessageBirdJwt(url, body, signingKey, now, o.jti ?? randomUUID()) };
}

/** The legacy `MessageBird-Signature` + `MessageBird-Request-Timestamp` pair for one request. */
export function legacyHeaders(url: string, body: string, signingKey: string, timestampSeconds?: number): Record<string, string> {
  const timestamp = String(timestampSeconds ?? Math.floor(Date.now() / 1000));
  const query = Object.fromEntries(new URL(url).searchParams);
  return {
    'MessageBird-Signature': signMessageBirdLegacy(timestamp, query, body, signingKey),
    'MessageBird-Request-Timestamp': timestamp,
  };
}

/** POSTs a conversation webhook as MessageBird does: JSON, signed with a fresh JWT unless `headers` say otherwise. */
export async function postWebhook(
  url: string, payload: unknown, signingKey: string, o: SignOptions & { headers?: Record<string, string> } = {},
): Promise<Answer> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const headers = { 'content-type': 'application/json', ...(o.headers ?? jwtHeader(url, body, signingKey, o)) };
  return webhookAnswerOf(await fetch(url, { method: 'POST', headers, body }));
}

/** GETs an SMS status report: `params` appended to `url`, signed with a JWT over the whole URL or the legacy pair. */
export async function getStatusReport(
  url: string, params: Record<string, string>, signingKey: string,
  o: SignOptions & { scheme?: 'jwt' | 'legacy' | 'none'; timestampSeconds?: number } = {},
): Promise<Answer> {
  const full = withQuery(url, params);
  const scheme = o.scheme ?? 'jwt';
  const headers = scheme === 'jwt' ? jwtHeader(full, '', signingKey, o) : scheme === 'legacy' ? legacyHeaders(full, '', signingKey, o.timestampSeconds) : {};
  return webhookAnswerOf(await fetch(full, { method: 'GET', headers }));
}

// ---- payloads -------------------------------------------------------------------------

const FIXTURES = resolve(import.meta.dirname, '../fixtures/messagebird');

/** A recorded-format payload from test/fixtures/messagebird (parsed afresh on every call). */
export function messageBirdFixture(name: string): Record<string, unknown> {
  const value = JSON.parse(readFileSync(resolve(FIXTURES, `${name}.json`), 'utf8')) as Record<string, unknown>;
  delete value._comment;
  return value;
}

/** A fixture webhook whose `message` fields are overridden (id, from, channelId, status, …). */
export function webhookPayload(name: string, message: Record<string, unknown> = {}): Record<string, unknown> {
  const payload = messageBirdFixture(name);
  payload.message = { ...(payload.message as Record<string, unknown>), ...message };
  return payload;
}
