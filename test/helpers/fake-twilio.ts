import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';

/**
 * A stand-in for api.twilio.com on 127.0.0.1: records every request and answers
 * POST /2010-04-01/Accounts/{AccountSid}/Messages.json like Twilio does (reference §1.3),
 * unless told otherwise. It also plays Twilio's webhook side: form posts signed with
 * `X-Twilio-Signature` the way Twilio signs them (reference §1.2).
 */

/** Decoded form fields; a repeated key holds all its values. */
export type FormFields = Record<string, string | string[]>;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  raw: string;
  /** The body decoded as a form (Twilio's API takes form-encoded requests). */
  form: FormFields;
}

export interface FakeResponse {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

export type Responder = (req: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

export interface WebhookAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface FakeTwilio {
  /** Base URL to give a channel as its `baseUrl` setting. */
  url: string;
  requests: RecordedRequest[];
  /** Overrides the answer to every following request; pass undefined to restore the default. */
  respondWith(fn: Responder | undefined): void;
  /** The Messages.json requests, optionally only those to one `To`. */
  sends(to?: string): RecordedRequest[];
  close(): Promise<void>;
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
  const res = await fetch(url, { method: 'POST', headers, body: encodeForm(fields) });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
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
  const requests: RecordedRequest[] = [];
  const queue = [...(opts.queue ?? [])];
  const defaultResponder: Responder = (req) => {
    const match = MESSAGES_PATH.exec(req.path);
    if (req.method === 'POST' && match) return { status: 201, json: messageResource(req.form, match[1]!) };
    return {
      status: 404,
      json: { code: 20404, message: `The requested resource ${req.path} was not found`, more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 },
    };
  };
  let responder: Responder = defaultResponder;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, form: decodeForm(raw) };
      requests.push(recorded);
      Promise.resolve(queue.shift() ?? responder(recorded))
        .then((answer) => {
          res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          res.end(answer.json === undefined ? '' : JSON.stringify(answer.json));
        })
        .catch((err: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 20500, message: String(err), status: 500 }));
        });
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(fn) {
      responder = fn ?? defaultResponder;
    },
    sends: (to) => requests.filter((r) => MESSAGES_PATH.test(r.path) && (to === undefined || r.form.To === to)),
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolveClose()));
      }),
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
