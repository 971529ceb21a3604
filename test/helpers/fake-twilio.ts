import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startFakeProvider, webhookAnswerOf } from './fake-provider.js';
import type { BaseRequest, FakeApi, FakeResponse, ResponderOf, WebhookAnswer } from './fake-provider.js';

/**
 * A stand-in for api.twilio.com on 127.0.0.1: records every request and answers
 * POST /2010-04-01/Accounts/{AccountSid}/Messages.json like Twilio does (reference §1.3),
 * unless told otherwise. It also plays Twilio's webhook side: form posts signed with
 * `X-Twilio-Signature` the way Twilio signs them (reference §1.2).
 */

/** Decoded form fields; a repeated key holds all its values. */
export type FormFields = Record<string, string | string[]>;

export type { FakeResponse, WebhookAnswer } from './fake-provider.js';

export interface RecordedRequest extends BaseRequest {
  /** The raw body text. */
  raw: string;
  /** The body decoded as a form (Twilio's API takes form-encoded requests). */
  form: FormFields;
}

export type Responder = ResponderOf<RecordedRequest>;

export interface FakeTwilio extends FakeApi<RecordedRequest> {
  /** The Messages.json requests, optionally only those to one `To`. */
  sends(to?: string): RecordedRequest[];
}

export interface FakeTwilioOptions {
  /** The first answers, used in order before the responder (e.g. a 500 then the default). */
  queue?: FakeResponse[];
}

const FIXTURES = resolve(import.meta.dirname, '../fixtures/twilio');

/** A fixture form body from test/fixtures/twilio, decoded (field order kept). */
export function twilioFormFixture(name: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(readFileSync(resolve(FIXTURES, name), 'utf8').trim()));
}

/** A JSON fixture from test/fixtures/twilio. */
export function twilioJsonFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(resolve(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

/** A Twilio SID: two letters and 32 lower-case hex digits. */
export const newSid = (prefix = 'SM'): string => `${prefix}${randomBytes(16).toString('hex')}`;

export function decodeForm(text: string): FormFields {
  const fields: FormFields = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const seen = fields[k];
    fields[k] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v];
  }
  return fields;
}

export function encodeForm(fields: FormFields): string {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) form.append(k, one);
  return form.toString();
}

/**
 * `X-Twilio-Signature` as Twilio computes it: the URL it calls, then every POST field as
 * key + value in key order (repeated keys: de-duplicated values, sorted), HMAC-SHA1 with
 * the auth token, base64. Written independently of Roost's validator.
 */
export function twilioSignature(authToken: string, url: string, fields: FormFields): string {
  const data = Object.keys(fields)
    .sort()
    .map((k) => {
      const v = fields[k]!;
      return Array.isArray(v) ? [...new Set(v)].sort().map((one) => k + one).join('') : k + v;
    })
    .join('');
  return createHmac('sha1', authToken).update(url + data, 'utf8').digest('base64');
}

/**
 * POSTs a form to a webhook URL as Twilio does. The signature is computed over `url` and
 * the fields with `authToken`, unless `signature` is given (null: no header at all).
 */
export async function postTwilioWebhook(
  url: string, fields: FormFields, opts: { authToken?: string; signature?: string | null; signedUrl?: string } = {},
): Promise<WebhookAnswer> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'TwilioProxy/1.1',
    'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
  };
  const signature = opts.signature !== undefined ? opts.signature : twilioSignature(opts.authToken ?? '', opts.signedUrl ?? url, fields);
  if (signature !== null) headers['x-twilio-signature'] = signature;
  return webhookAnswerOf(await fetch(url, { method: 'POST', headers, body: encodeForm(fields) }));
}

/** A realistic Message resource for one Messages.json request (reference §1.3). */
export function messageResource(form: FormFields, accountSid: string, sid = newSid(form.MediaUrl ? 'MM' : 'SM')): Record<string, unknown> {
  const one = (k: string) => (Array.isArray(form[k]) ? form[k][0] : form[k]) ?? null;
  const now = new Date().toUTCString().replace('GMT', '+0000');
  return {
    account_sid: accountSid,
    api_version: '2010-04-01',
    body: one('Body') ?? '',
    date_created: now,
    date_sent: null,
    date_updated: now,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: one('From'),
    messaging_service_sid: null,
    num_media: form.MediaUrl ? '1' : '0',
    num_segments: '1',
    price: null,
    price_unit: 'USD',
    sid,
    status: 'queued',
    subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
    to: one('To'),
    uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
  };
}

const MESSAGES_PATH = /^(?:\/[^?]*)?\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Messages\.json$/;

export async function startFakeTwilio(opts: FakeTwilioOptions = {}): Promise<FakeTwilio> {
  const fake = await startFakeProvider<RecordedRequest>({
    record: (base, raw) => ({ ...base, raw, form: decodeForm(raw) }),
    defaultResponder: (req) => {
      const match = MESSAGES_PATH.exec(req.path);
      if (req.method === 'POST' && match) return { status: 201, json: messageResource(req.form, match[1]!) };
      return {
        status: 404,
        json: { code: 20404, message: `The requested resource ${req.path} was not found`, more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 },
      };
    },
    errorBody: (err) => ({ code: 20500, message: String(err), status: 500 }),
    queue: opts.queue,
  });

  return {
    url: fake.origin,
    requests: fake.requests,
    respondWith: fake.respondWith,
    sends: (to) => fake.requests.filter((r) => MESSAGES_PATH.test(r.path) && (to === undefined || r.form.To === to)),
    close: fake.close,
  };
}

/** An incoming-SMS webhook body shaped like sms-inbound.form, with fresh SIDs. */
export function twilioInboundFields(overrides: Record<string, string | undefined> = {}): FormFields {
  const sid = newSid('SM');
  const base: Record<string, string | undefined> = {
    ...twilioFormFixture('sms-inbound.form'),
    SmsMessageSid: sid,
    SmsSid: sid,
    MessageSid: sid,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
}

/** A status-callback body shaped like status-delivered.form. */
export function twilioStatusFields(overrides: Record<string, string | undefined> = {}): FormFields {
  const base: Record<string, string | undefined> = { ...twilioFormFixture('status-delivered.form'), ...overrides };
  if (overrides.MessageSid !== undefined && overrides.SmsSid === undefined) base.SmsSid = overrides.MessageSid;
  if (overrides.MessageStatus !== undefined && overrides.SmsStatus === undefined) base.SmsStatus = overrides.MessageStatus;
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
}
