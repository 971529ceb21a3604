import { randomUUID } from 'node:crypto';
import { jsonRequest, startFakeProvider } from './fake-provider.js';
import type { FakeApi, FakeResponse, JsonRequest, ResponderOf } from './fake-provider.js';

/**
 * A stand-in for api.sendblue.co on 127.0.0.1: records every request and answers
 * POST /api/send-message like Sendblue does (reference §4.3), unless told otherwise.
 */

export type { FakeResponse } from './fake-provider.js';
export type RecordedRequest = JsonRequest;
export type Responder = ResponderOf<RecordedRequest>;

export interface FakeSendblue extends FakeApi<RecordedRequest> {
  /** POSTs a Sendblue-format status callback to `callbackUrl`, as Sendblue would. */
  postStatus(callbackUrl: string, payload: Record<string, unknown>, opts?: { signingSecret?: string }): Promise<{ status: number; body: string }>;
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
  const fake = await startFakeProvider<RecordedRequest>({
    record: jsonRequest,
    defaultResponder: (req) =>
      req.method === 'POST' && req.path === '/api/send-message'
        ? { status: 200, json: messageResponse(req.body, opts.accountEmail) }
        : { status: 404, json: { status: 'ERROR', message: `no route ${req.method} ${req.path}` } },
    errorBody: (err) => ({ status: 'ERROR', message: String(err) }),
    queue: opts.queue,
  });

  return {
    url: fake.origin,
    requests: fake.requests,
    respondWith: fake.respondWith,
    async postStatus(callbackUrl, payload, postOpts = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (postOpts.signingSecret !== undefined) headers['sb-signing-secret'] = postOpts.signingSecret;
      const res = await fetch(callbackUrl, { method: 'POST', headers, body: JSON.stringify(payload) });
      return { status: res.status, body: await res.text() };
    },
    close: fake.close,
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
