import { describe, expect, it } from 'vitest';
import type { ChannelContext, InboundMessage, InboundRequest, StatusUpdate } from '../../../src/channels/connector.js';
import { twilioConnector } from '../../../src/channels/twilio/twilio-connector.js';
import type { MessageContent, MessageType } from '../../../src/domain/content.js';
import { newId } from '../../../src/domain/ids.js';
import type { Channel, Message } from '../../../src/domain/records.js';
import type { HttpClient } from '../../../src/net/http-client.js';
import {
  encodeForm, newSid, startFakeTwilio, twilioFormFixture, twilioInboundFields, twilioJsonFixture, twilioSignature, twilioStatusFields,
} from '../../helpers/fake-twilio.js';
import type { FormFields } from '../../helpers/fake-twilio.js';
import {
  FORM_TYPE, channelBuilder, closedPort, contextFor, inboundRequest, outboundMessage, thrown, useFakeProvider, withStrictHttpClient,
} from './builders.js';

// ---- builders (shared ones in ./builders.ts) --------------------------------------------

const ACCOUNT_SID = 'AC7d1e3c0f5b9a4e2d8c6b1a0f9e8d7c6b';
const AUTH_TOKEN = 'f3c1d9e8b7a6c5d4e3f2a1b0c9d8e7f6';
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

const channel = channelBuilder('twilio', {
  name: 'sms',
  settings: { accountSid: ACCOUNT_SID, fromNumber: '+3197010251234', baseUrl: 'https://api.twilio.com' },
  secrets: { authToken: AUTH_TOKEN },
});

const ctxFor = (ch: Channel) => contextFor(ch);

/** A form POST to `url`, signed as Twilio signs it unless `signature` says otherwise (null: no header). */
function signed(ctx: ChannelContext, fields: FormFields, opts: { url?: string; signature?: string | null; token?: string } = {}): InboundRequest {
  const url = opts.url ?? ctx.inboundUrl;
  const signature = opts.signature !== undefined ? opts.signature : twilioSignature(opts.token ?? AUTH_TOKEN, url, fields);
  return inboundRequest(url, encodeForm(fields), { contentType: FORM_TYPE, headers: signature === null ? {} : { 'x-twilio-signature': signature } });
}

const message = (ch: Channel, type: MessageType, content: MessageContent, to = '+31612345678') =>
  outboundMessage(ch, type, content, { from: '+3197010251234', to });

// ---- settings ---------------------------------------------------------------------------

describe('twilio parseSettings', () => {
  const valid = { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, fromNumber: '+1 (415) 555-0123' };

  it('splits public settings from the write-only authToken and normalises fromNumber', () => {
    const out = twilioConnector.parseSettings(valid);
    expect(out.settings).toEqual({ accountSid: ACCOUNT_SID, fromNumber: '+14155550123', baseUrl: 'https://api.twilio.com' });
    expect(out.secrets).toEqual({ authToken: AUTH_TOKEN });
    expect(JSON.stringify(out.settings)).not.toContain(AUTH_TOKEN);
  });

  it('keeps the whatsapp: prefix of a WhatsApp sender, normalised', () => {
    expect(twilioConnector.parseSettings({ ...valid, fromNumber: 'whatsapp:+1 415 523 8886' }).settings.fromNumber).toBe('whatsapp:+14155238886');
    expect(twilioConnector.parseSettings({ ...valid, fromNumber: 'WhatsApp:+14155238886' }).settings.fromNumber).toBe('whatsapp:+14155238886');
  });

  it.each(['accountSid', 'authToken', 'fromNumber'])('requires %s', (key) => {
    const input: Record<string, unknown> = { ...valid };
    delete input[key];
    const err = thrown(() => twilioConnector.parseSettings(input));
    expect(err.kind).toBe('missing_parameter');
    expect(err.parameter).toBe(`settings.${key}`);
  });

  it('refuses invalid values and unknown keys', () => {
    for (const accountSid of ['AC123', 'SK7d1e3c0f5b9a4e2d8c6b1a0f9e8d7c6b', 42, `${ACCOUNT_SID}0`]) {
      expect(thrown(() => twilioConnector.parseSettings({ ...valid, accountSid })).parameter).toBe('settings.accountSid');
    }
    for (const fromNumber of ['not a number', 'whatsapp:', 'messenger:+14155550123', 14155550123]) {
      expect(thrown(() => twilioConnector.parseSettings({ ...valid, fromNumber })).parameter).toBe('settings.fromNumber');
    }
    for (const baseUrl of ['ftp://api.twilio.com', 'nope', 42, 'https://api.twilio.com/?x=1', 'https://user:pw@api.twilio.com']) {
      const err = thrown(() => twilioConnector.parseSettings({ ...valid, baseUrl }));
      expect(err).toMatchObject({ kind: 'invalid_parameter', parameter: 'settings.baseUrl' });
    }
    expect(thrown(() => twilioConnector.parseSettings({ ...valid, authToken: 12 })).parameter).toBe('settings.authToken');
    expect(thrown(() => twilioConnector.parseSettings({ ...valid, authToken: ' padded ' })).parameter).toBe('settings.authToken');
    expect(thrown(() => twilioConnector.parseSettings({ ...valid, apiKey: 'x' }))).toMatchObject({ kind: 'invalid_parameter', parameter: 'settings.apiKey' });
  });

  it('strips trailing slashes from baseUrl', () => {
    expect(twilioConnector.parseSettings({ ...valid, baseUrl: 'http://127.0.0.1:8080/twilio/' }).settings.baseUrl).toBe('http://127.0.0.1:8080/twilio');
  });

  it('keeps unnamed values on PATCH and refuses clearing a required one', () => {
    const previous = twilioConnector.parseSettings({ ...valid, baseUrl: 'http://localhost:9/' });
    const patched = twilioConnector.parseSettings({ fromNumber: 'whatsapp:+14155238886' }, previous);
    expect(patched.settings).toEqual({ accountSid: ACCOUNT_SID, fromNumber: 'whatsapp:+14155238886', baseUrl: 'http://localhost:9' });
    expect(patched.secrets).toEqual({ authToken: AUTH_TOKEN });
    expect(twilioConnector.parseSettings({ authToken: 'rotated' }, previous).secrets).toEqual({ authToken: 'rotated' });
    expect(thrown(() => twilioConnector.parseSettings({ authToken: null }, previous)).parameter).toBe('settings.authToken');
    expect(twilioConnector.parseSettings({ baseUrl: null }, previous).settings.baseUrl).toBe('https://api.twilio.com');
  });
});

// ---- verify -----------------------------------------------------------------------------

describe('twilio verify', () => {
  const ch = channel();
  const ctx = ctxFor(ch);
  const fields = twilioFormFixture('sms-inbound.form');

  it('accepts a fixture signed over the inbound URL', () => {
    expect(twilioConnector.verify(signed(ctx, fields), ctx)).toEqual({ ok: true });
  });

  it('refuses a missing (400) or wrong (403) signature', () => {
    expect(twilioConnector.verify(signed(ctx, fields, { signature: null }), ctx)).toMatchObject({ ok: false, status: 400 });
    expect(twilioConnector.verify(signed(ctx, fields, { token: 'another-token' }), ctx)).toMatchObject({ ok: false, status: 403 });
    expect(twilioConnector.verify(signed(ctx, fields, { signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=' }), ctx)).toMatchObject({ ok: false, status: 403 });
    // Signed for one channel's URL, replayed to another's.
    const other = ctxFor(channel());
    const replayed = signed(ctx, fields);
    expect(twilioConnector.verify({ ...replayed, url: other.inboundUrl }, other)).toMatchObject({ ok: false, status: 403 });
  });

  it('refuses a body changed after signing', () => {
    const req = signed(ctx, fields);
    const tampered = { ...req, rawBody: Buffer.from(encodeForm({ ...fields, Body: 'Send me the admin password' })) };
    expect(twilioConnector.verify(tampered, ctx)).toMatchObject({ ok: false, status: 403 });
  });

  it('covers the status-callback query: the signed URL includes ?message=&token=', () => {
    const url = ctx.statusCallbackUrl(newId<'message'>());
    const status = twilioFormFixture('status-delivered.form');
    expect(twilioConnector.verify(signed(ctx, status, { url }), ctx)).toEqual({ ok: true });
    // The same signature presented with the query stripped, or with another message id, fails.
    const sig = twilioSignature(AUTH_TOKEN, url, status);
    expect(twilioConnector.verify(signed(ctx, status, { url: ctx.inboundUrl, signature: sig }), ctx)).toMatchObject({ ok: false, status: 403 });
    const other = ctx.statusCallbackUrl(newId<'message'>());
    expect(twilioConnector.verify(signed(ctx, status, { url: other, signature: sig }), ctx)).toMatchObject({ ok: false, status: 403 });
  });

  it('accepts a signature over the URL with the standard port', () => {
    const url = ctx.inboundUrl.replace('roost.example', 'roost.example:443');
    const sig = twilioSignature(AUTH_TOKEN, url, fields);
    expect(twilioConnector.verify(signed(ctx, fields, { signature: sig }), ctx)).toEqual({ ok: true });
  });

  it('refuses methods other than POST and GET', () => {
    expect(twilioConnector.verify({ ...signed(ctx, fields), method: 'PUT' }, ctx)).toMatchObject({ ok: false, status: 405 });
  });
});

// ---- parse: incoming messages -------------------------------------------------------------

describe('twilio parse (incoming messages)', () => {
  const ch = channel();
  const ctx = ctxFor(ch);
  const parse = (fields: FormFields) => twilioConnector.parse(signed(ctx, fields), ctx);

  it('parses an SMS and answers with empty TwiML', () => {
    const parsed = parse(twilioFormFixture('sms-inbound.form'));
    expect(parsed.response).toEqual({ status: 200, contentType: 'text/xml', body: EMPTY_TWIML });
    expect(parsed.items).toEqual([
      {
        kind: 'message',
        providerMessageId: 'SM0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f',
        contact: { key: 'phonenumber', value: '+31612345678' },
        from: '+31612345678',
        to: '+3197010251234',
        type: 'text',
        content: { text: 'Hoi, is mijn bestelling #4411 al verzonden? 🙂' },
      },
    ]);
  });

  it('parses an MMS: the first medium typed by its content type and captioned with Body, the rest as their own messages', () => {
    const { items } = parse(twilioFormFixture('mms-inbound.form'));
    const sid = 'MM5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b';
    const base = `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${sid}/Media`;
    expect(items).toEqual([
      {
        kind: 'message',
        providerMessageId: sid,
        contact: { key: 'phonenumber', value: '+15125550187' },
        from: '+15125550187',
        to: '+14155550123',
        type: 'image',
        content: { image: { url: `${base}/ME1f2e3d4c5b6a79880a1b2c3d4e5f6a7b`, caption: 'Photo of the damaged box, and the delivery note' } },
      },
      {
        kind: 'message',
        providerMessageId: `${sid}/1`,
        contact: { key: 'phonenumber', value: '+15125550187' },
        from: '+15125550187',
        to: '+14155550123',
        type: 'file',
        content: { file: { url: `${base}/ME9a8b7c6d5e4f30211f2e3d4c5b6a7980` } },
      },
    ]);
  });

  it.each([
    ['image/png', 'image'],
    ['image/gif', 'image'],
    ['video/mp4', 'video'],
    ['audio/ogg', 'audio'],
    ['audio/mpeg', 'audio'],
    ['text/vcard', 'file'],
    ['application/pdf', 'file'],
    ['', 'file'],
  ])('types media of content type %s as %s', (contentType, type) => {
    const url = 'https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME';
    const [item] = parse(twilioInboundFields({ NumMedia: '1', MediaUrl0: url, MediaContentType0: contentType, Body: '' })).items;
    expect(item).toMatchObject({ type, content: { [type]: { url } } });
    expect((item as InboundMessage).content).toEqual({ [type]: { url } });
  });

  it('parses a WhatsApp message: prefixes stripped, ProfileName as the contact name', () => {
    const { items } = parse(twilioFormFixture('whatsapp-inbound.form'));
    expect(items).toEqual([
      {
        kind: 'message',
        providerMessageId: 'SM3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b',
        contact: { key: 'phonenumber', value: '+31612345678' },
        contactName: 'Anouk de Vries',
        from: '+31612345678',
        to: '+14155238886',
        type: 'text',
        content: { text: 'Kan ik mijn afspraak verzetten naar vrijdag?' },
      },
    ]);
  });

  it('gives the same contact for SMS and WhatsApp from one number', () => {
    const sms = parse(twilioFormFixture('sms-inbound.form')).items[0] as InboundMessage;
    const wa = parse(twilioFormFixture('whatsapp-inbound.form')).items[0] as InboundMessage;
    expect(wa.contact).toEqual(sms.contact);
  });

  it('parses a WhatsApp location', () => {
    const [item] = parse(twilioFormFixture('whatsapp-location.form')).items;
    expect(item).toMatchObject({
      providerMessageId: 'SM8f6d4b2a0e8c6a4f2d0b8e6c4a2f0d8b',
      from: '+31612345678',
      type: 'location',
      content: { location: { latitude: 52.3731339, longitude: 4.8924534 } },
    });
  });

  it('parses a WhatsApp image with its caption', () => {
    const [item] = parse(twilioFormFixture('whatsapp-image.form')).items;
    expect(item).toMatchObject({
      type: 'image',
      contactName: 'Anouk de Vries',
      content: {
        image: {
          url: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/MM1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a/Media/ME0a2c4e6a8c0e2a4c6e8a0c2e4a6c8e0a`,
          caption: 'Zo ziet de lekkage eruit',
        },
      },
    });
  });

  it('falls back to SmsMessageSid and the channel number', () => {
    const fields = twilioInboundFields({ MessageSid: undefined, SmsSid: undefined, SmsMessageSid: 'SMfallback', To: undefined });
    expect(parse(fields).items[0]).toMatchObject({ providerMessageId: 'SMfallback', to: '+3197010251234' });
  });

  it('reads a GET webhook from its query string', () => {
    const fields = twilioInboundFields({ Body: 'via GET' });
    const url = `${ctx.inboundUrl}?${encodeForm(fields)}`;
    const req: InboundRequest = {
      method: 'GET',
      url,
      headers: { 'x-twilio-signature': twilioSignature(AUTH_TOKEN, url, {}) },
      query: Object.fromEntries(new URL(url).searchParams),
      rawBody: Buffer.alloc(0),
    };
    expect(twilioConnector.verify(req, ctx)).toEqual({ ok: true });
    expect(twilioConnector.parse(req, ctx).items[0]).toMatchObject({ type: 'text', content: { text: 'via GET' } });
  });

  it('acknowledges a message with nothing Roost can store', () => {
    expect(parse(twilioInboundFields({ Body: '' }))).toEqual({ items: [], response: { status: 200, contentType: 'text/xml', body: EMPTY_TWIML } });
    expect(parse(twilioStatusFields({ MessageStatus: 'receiving' })).items).toEqual([]);
  });

  it.each([
    ['no MessageSid', { MessageSid: undefined, SmsSid: undefined, SmsMessageSid: undefined }],
    ['no From', { From: undefined }],
    ['a From that is not a phone number', { From: 'whatsapp:alice' }],
    ['a bad NumMedia', { NumMedia: 'two' }],
    ['a media URL that is not http(s)', { NumMedia: '1', MediaUrl0: 'javascript:alert(1)' }],
    ['a latitude out of range', { Latitude: '95', Longitude: '4.9' }],
    ['a longitude that is not a number', { Latitude: '52.1', Longitude: 'east' }],
    ['a Body over 20000 characters', { Body: 'x'.repeat(20_001) }],
  ])('refuses a message with %s as bad_request', (_what, overrides) => {
    expect(thrown(() => parse(twilioInboundFields(overrides as Record<string, string | undefined>))).kind).toBe('bad_request');
  });
});

// ---- parse: status callbacks --------------------------------------------------------------

describe('twilio parse (status callbacks)', () => {
  const ch = channel();
  const ctx = ctxFor(ch);
  const parse = (fields: FormFields, url?: string) => twilioConnector.parse(signed(ctx, fields, url ? { url } : {}), ctx);

  it.each([
    ['queued', 'pending'],
    ['accepted', 'pending'],
    ['scheduled', 'pending'],
    ['sending', 'pending'],
    ['sent', 'sent'],
    ['delivered', 'delivered'],
    ['read', 'read'],
    ['failed', 'failed'],
    ['undelivered', 'failed'],
    ['canceled', 'failed'],
  ])('maps %s to %s', (wire, status) => {
    const sid = newSid();
    const parsed = parse(twilioStatusFields({ MessageSid: sid, MessageStatus: wire }));
    expect(parsed.response?.body).toBe(EMPTY_TWIML);
    expect(parsed.items).toHaveLength(1);
    expect(parsed.items[0]).toMatchObject({ kind: 'status', providerMessageId: sid, status });
    if (status !== 'failed') expect((parsed.items[0] as StatusUpdate).error).toBeUndefined();
  });

  it('parses the fixtures', () => {
    expect(parse(twilioFormFixture('status-sent.form')).items).toEqual([{ kind: 'status', providerMessageId: 'SM9e7c5a3f1d9b7e5c3a1f9d7b5e3c1a9f', status: 'sent' }]);
    expect(parse(twilioFormFixture('status-delivered.form')).items[0]).toMatchObject({ status: 'delivered' });
    expect(parse(twilioFormFixture('status-undelivered.form')).items).toEqual([{
      kind: 'status',
      providerMessageId: 'SM9e7c5a3f1d9b7e5c3a1f9d7b5e3c1a9f',
      status: 'failed',
      error: { code: 30003, description: 'Twilio reported the message undelivered (error 30003)' },
    }]);
    expect(parse(twilioFormFixture('whatsapp-status-read.form')).items[0]).toMatchObject({ status: 'read' });
    expect(parse(twilioFormFixture('whatsapp-status-failed.form')).items[0]).toMatchObject({
      status: 'failed',
      error: { code: 63007, description: 'Twilio could not find a Channel with the specified From address' },
    });
  });

  it('reports a failure without ErrorCode with code 0', () => {
    const { items } = parse(twilioStatusFields({ MessageStatus: 'canceled' }));
    expect((items[0] as StatusUpdate).error).toEqual({ code: 0, description: 'Twilio reported the message canceled' });
  });

  it('ignores statuses Roost does not track', () => {
    for (const MessageStatus of ['partially_delivered', 'something_new']) {
      expect(parse(twilioStatusFields({ MessageStatus })).items).toEqual([]);
    }
  });

  it('takes the Roost message id from a callback URL whose token checks out', () => {
    const id = newId<'message'>();
    const url = ctx.statusCallbackUrl(id);
    expect((parse(twilioStatusFields({ MessageStatus: 'sent' }), url).items[0] as StatusUpdate).messageId).toBe(id);
    const forged = `${ctx.inboundUrl}?message=${id}&token=forged`;
    expect((parse(twilioStatusFields({ MessageStatus: 'sent' }), forged).items[0] as StatusUpdate).messageId).toBeUndefined();
  });
});

// ---- identifiers ------------------------------------------------------------------------

describe('twilio addresses', () => {
  it('identifies phone numbers, with or without whatsapp:', () => {
    expect(twilioConnector.identifierFor('+31 6 12345678')).toEqual({ key: 'phonenumber', value: '+31612345678' });
    expect(twilioConnector.identifierFor('whatsapp:+31612345678')).toEqual({ key: 'phonenumber', value: '+31612345678' });
    expect(twilioConnector.identifierFor('alice@example.com')).toBeUndefined();
  });

  it('sends from the channel number, without the whatsapp: prefix', () => {
    expect(twilioConnector.ownAddress(channel())).toBe('+3197010251234');
    expect(twilioConnector.ownAddress(channel({ fromNumber: 'whatsapp:+14155238886' }))).toBe('+14155238886');
  });
});

// ---- send -------------------------------------------------------------------------------

describe('twilio send', () => {
  const { fake, http } = useFakeProvider(startFakeTwilio);

  const send = (ch: Channel, msg: Message, client: HttpClient = http) => twilioConnector.send({ message: msg, channel: ch, ctx: ctxFor(ch) }, client);
  const basic = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`;

  it('posts a form to Messages.json with Basic auth and a status callback', async () => {
    const ch = channel({ baseUrl: fake.url });
    const msg = message(ch, 'text', { text: 'Your order #4411 shipped today.' });
    const outcome = await send(ch, msg);

    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(req!.headers.authorization).toBe(basic);
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req!.form).toEqual({
      To: '+31612345678',
      From: '+3197010251234',
      Body: 'Your order #4411 shipped today.',
      StatusCallback: ctxFor(ch).statusCallbackUrl(msg.id),
    });
    expect(outcome).toMatchObject({ kind: 'accepted', status: 'pending' });
    expect((outcome as { providerMessageId: string }).providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('prefixes To and From with whatsapp: for a WhatsApp sender', async () => {
    const ch = channel({ baseUrl: fake.url, fromNumber: 'whatsapp:+14155238886' });
    await send(ch, message(ch, 'text', { text: 'Hallo!' }));
    expect(fake.requests[0]!.form).toMatchObject({ To: 'whatsapp:+31612345678', From: 'whatsapp:+14155238886', Body: 'Hallo!' });
  });

  it('sends media as MediaUrl with the caption as Body, and uncaptioned media without Body', async () => {
    const ch = channel({ baseUrl: fake.url });
    await send(ch, message(ch, 'image', { image: { url: 'https://cdn.example.com/box.jpg', caption: 'The box' } }));
    await send(ch, message(ch, 'file', { file: { url: 'https://cdn.example.com/invoice.pdf' } }));
    expect(fake.requests[0]!.form).toMatchObject({ MediaUrl: 'https://cdn.example.com/box.jpg', Body: 'The box' });
    expect(fake.requests[1]!.form).toMatchObject({ MediaUrl: 'https://cdn.example.com/invoice.pdf' });
    expect(fake.requests[1]!.form).not.toHaveProperty('Body');
  });

  it('sends a location as text over SMS and as a geo: action over WhatsApp', async () => {
    const sms = channel({ baseUrl: fake.url });
    await send(sms, message(sms, 'location', { location: { latitude: 52.3731, longitude: 4.8926 } }));
    expect(fake.requests[0]!.form).toMatchObject({ Body: '52.3731,4.8926' });
    expect(fake.requests[0]!.form).not.toHaveProperty('PersistentAction');
    const wa = channel({ baseUrl: fake.url, fromNumber: 'whatsapp:+14155238886' });
    await send(wa, message(wa, 'location', { location: { latitude: 52.3731, longitude: 4.8926 } }));
    expect(fake.requests[1]!.form).toMatchObject({ Body: '52.3731,4.8926', PersistentAction: 'geo:52.3731,4.8926' });
  });

  it('keeps a path prefix of baseUrl and reads the sid and status of the answer', async () => {
    const ch = channel({ baseUrl: `${fake.url}/proxy` });
    fake.respondWith(() => ({ status: 201, json: twilioJsonFixture('send-response.json') }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'accepted', providerMessageId: 'SM9e7c5a3f1d9b7e5c3a1f9d7b5e3c1a9f', status: 'pending' });
    expect(fake.requests[0]!.path).toBe(`/proxy/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    fake.respondWith(() => ({ status: 201, json: { ...twilioJsonFixture('send-response.json'), status: 'sent' } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toMatchObject({ kind: 'accepted', status: 'sent' });
  });

  it('fails on a 2xx whose status is failed', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 201, json: { ...twilioJsonFixture('send-response.json'), status: 'failed', error_code: 30007, error_message: 'Message filtered' } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 30007, description: 'Message filtered' } });
  });

  it('retries a 2xx without a sid', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 201, json: { status: 'queued' } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toMatchObject({ kind: 'retry', error: { code: 0 } });
  });

  it('fails with Twilio\'s error code and message on 4xx', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 400, json: twilioJsonFixture('error-21211.json') }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 21211, description: "Invalid 'To' Phone Number: +3161234567" } });
    fake.respondWith(() => ({ status: 401, json: twilioJsonFixture('error-20003.json') }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 20003, description: 'Authenticate' } });
    fake.respondWith(() => ({ status: 403 }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 403, description: 'Twilio answered 403' } });
  });

  it('retries 429 honouring Retry-After, 408 and 5xx', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 429, json: twilioJsonFixture('error-20429.json'), headers: { 'retry-after': '3' } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'retry', error: { code: 20429, description: 'Too Many Requests' }, retryAfterMs: 3000 });
    fake.respondWith(() => ({ status: 408 }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toMatchObject({ kind: 'retry', error: { code: 408 } });
    fake.respondWith(() => ({ status: 503, json: { code: 20503, message: 'Service Unavailable', status: 503 } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'retry', error: { code: 20503, description: 'Service Unavailable' } });
  });

  it('retries when nothing listens on the port', async () => {
    const ch = channel({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toMatchObject({ kind: 'retry', error: { code: 0 } });
  });

  it('fails for good when the base URL is a refused private address', async () => {
    await withStrictHttpClient(async (strict) => {
      const ch = channel({ baseUrl: fake.url });
      const outcome = await send(ch, message(ch, 'text', { text: 'hi' }), strict);
      expect(outcome).toMatchObject({ kind: 'failed', error: { code: 0 } });
      expect(fake.requests).toHaveLength(0);
    });
  });

  it('fails without calling Twilio when credentials are missing or the content is an hsm', async () => {
    const ch = channel({ baseUrl: fake.url });
    ch.secrets = {};
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toMatchObject({ kind: 'failed' });
    const ok = channel({ baseUrl: fake.url });
    expect(await send(ok, message(ok, 'hsm', { hsm: { templateName: 'order_update' } }))).toMatchObject({ kind: 'failed', error: { code: 0 } });
    expect(fake.requests).toHaveLength(0);
  });
});
