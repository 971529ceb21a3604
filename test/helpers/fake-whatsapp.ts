import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bodyField, jsonRequest, startFakeProvider, webhookAnswerOf } from './fake-provider.js';
import type { FakeApi, FakeResponse, JsonRequest, ResponderOf, WebhookAnswer } from './fake-provider.js';

/**
 * A stand-in for graph.facebook.com on 127.0.0.1: records every request and answers
 * POST /{version}/{phoneNumberId}/messages like the WhatsApp Cloud API does (reference
 * §3.5), unless told otherwise. It also plays Meta's webhook side: notifications
 * serialised the way Meta does (compact, non-ASCII and `/` escaped) and signed with
 * `X-Hub-Signature-256` over those exact bytes, and the GET subscription handshake.
 */

export type { FakeResponse, WebhookAnswer } from './fake-provider.js';
export type RecordedRequest = JsonRequest;
export type Responder = ResponderOf<RecordedRequest>;

export interface FakeWhatsApp extends FakeApi<RecordedRequest> {
  /** The Graph API base URL, with its version path, to give a channel as `baseUrl`. */
  url: string;
  /** The /messages requests, optionally only those to one `to` (digits, no +). */
  sends(to?: string): RecordedRequest[];
}

export const GRAPH_VERSION = 'v21.0';
const FIXTURES = resolve(import.meta.dirname, '../fixtures/whatsapp');
const MESSAGES_PATH = /\/(\d+)\/messages$/;

/** A fixture's raw bytes from test/fixtures/whatsapp. */
export function whatsappFixtureBytes(name: string): Buffer {
  return readFileSync(resolve(FIXTURES, name));
}

/** A fixture from test/fixtures/whatsapp, parsed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function whatsappFixture(name: string): any {
  return JSON.parse(whatsappFixtureBytes(name).toString('utf8'));
}

/** A wamid-shaped message id. */
export const newWamid = (): string => `wamid.${randomBytes(30).toString('base64')}`;

/** JSON as Meta serialises webhook bodies: compact, `\uXXXX` for non-ASCII, `\/` for slashes. */
export function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/\//g, '\\/');
}

export function hubSignature(appSecret: string, raw: Buffer | string): string {
  return `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`;
}

/**
 * POSTs a notification as Meta does: `payload` serialised with metaJson (or sent as given
 * when it is a string or Buffer), signed with `appSecret` unless `signature` is given
 * (null: no header at all).
 */
export async function postWhatsAppNotification(
  url: string, payload: unknown, opts: { appSecret?: string; signature?: string | null } = {},
): Promise<WebhookAnswer> {
  const raw = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : metaJson(payload), 'utf8');
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'facebookexternalua' };
  const signature = opts.signature !== undefined ? opts.signature : hubSignature(opts.appSecret ?? '', raw);
  if (signature !== null) {
    headers['x-hub-signature-256'] = signature;
    headers['x-hub-signature'] = `sha1=${createHmac('sha1', opts.appSecret ?? '').update(raw).digest('hex')}`;
  }
  return webhookAnswerOf(await fetch(url, { method: 'POST', headers, body: new Uint8Array(raw) }));
}

/** Meta's subscription check: GET with hub.mode, hub.verify_token and hub.challenge. */
export async function whatsappHandshake(
  url: string, params: { mode?: string; verifyToken?: string; challenge?: string },
): Promise<WebhookAnswer> {
  const u = new URL(url);
  if (params.mode !== undefined) u.searchParams.set('hub.mode', params.mode);
  if (params.challenge !== undefined) u.searchParams.set('hub.challenge', params.challenge);
  if (params.verifyToken !== undefined) u.searchParams.set('hub.verify_token', params.verifyToken);
  return webhookAnswerOf(await fetch(u, { method: 'GET' }));
}

/** A realistic /messages answer for one request body (reference §3.5). */
export function sendResponse(body: unknown, id = newWamid()): Record<string, unknown> {
  const to = bodyField(body, 'to');
  return { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to }], messages: [{ id, message_status: 'accepted' }] };
}

export async function startFakeWhatsApp(opts: { queue?: FakeResponse[] } = {}): Promise<FakeWhatsApp> {
  const fake = await startFakeProvider<RecordedRequest>({
    record: jsonRequest,
    defaultResponder: (req) =>
      req.method === 'POST' && MESSAGES_PATH.test(req.path)
        ? { status: 200, json: sendResponse(req.body) }
        : {
            status: 400,
            json: {
              error: {
                message: `Unsupported ${req.method.toLowerCase()} request.`,
                type: 'GraphMethodException',
                code: 100,
                error_subcode: 33,
                fbtrace_id: randomBytes(9).toString('base64'),
              },
            },
          },
    errorBody: (err) => ({ error: { message: String(err), type: 'OAuthException', code: 2 } }),
    queue: opts.queue,
  });

  return {
    url: `${fake.origin}/${GRAPH_VERSION}`,
    requests: fake.requests,
    respondWith: fake.respondWith,
    sends: (to) => fake.requests.filter((r) => MESSAGES_PATH.test(r.path) && (to === undefined || bodyField(r.body, 'to') === to)),
    close: fake.close,
  };
}

export interface NotificationOptions {
  phoneNumberId: string;
  displayPhoneNumber?: string;
  wabaId?: string;
}

/** One notification with one change for `phoneNumberId` carrying `value` (messages, contacts, statuses). */
export function whatsappNotification(o: NotificationOptions, value: Record<string, unknown>): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [{
      id: o.wabaId ?? '203847561928374',
      changes: [{
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: o.displayPhoneNumber ?? '15550243178', phone_number_id: o.phoneNumberId },
          ...value,
        },
        field: 'messages',
      }],
    }],
  };
}

/** An inbound text message notification from `from` (E.164 or digits). */
export function whatsappTextNotification(
  o: NotificationOptions, from: string, body: string, extra: { id?: string; name?: string } = {},
): Record<string, unknown> {
  const waId = from.replace(/^\+/, '');
  return whatsappNotification(o, {
    contacts: [{ profile: { name: extra.name ?? 'WhatsApp User' }, wa_id: waId }],
    messages: [{ from: waId, id: extra.id ?? newWamid(), timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body } }],
  });
}

/** A status notification about message `id` sent to `recipient`. */
export function whatsappStatusNotification(
  o: NotificationOptions, id: string, status: string, recipient: string, extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return whatsappNotification(o, {
    statuses: [{
      id,
      status,
      timestamp: String(Math.floor(Date.now() / 1000)),
      recipient_id: recipient.replace(/^\+/, ''),
      pricing: { billable: true, pricing_model: 'PMP', category: 'service', type: 'free_customer_service' },
      ...extra,
    }],
  });
}
