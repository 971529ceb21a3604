import { describe, expect, it } from 'vitest';
import type { ChannelContext, InboundMessage, InboundRequest, StatusUpdate } from '../../../src/channels/connector.js';
import { whatsappConnector } from '../../../src/channels/whatsapp/whatsapp-connector.js';
import type { MessageContent, MessageType } from '../../../src/domain/content.js';
import { newId } from '../../../src/domain/ids.js';
import type { Channel, Message } from '../../../src/domain/records.js';
import type { HttpClient } from '../../../src/net/http-client.js';
import {
  hubSignature, metaJson, startFakeWhatsApp, whatsappFixture, whatsappFixtureBytes, whatsappStatusNotification,
} from '../../helpers/fake-whatsapp.js';
import {
  callbackToken, channelBuilder, closedPort, contextFor, inboundRequest, outboundMessage, thrown, useFakeProvider, withStrictHttpClient,
} from './builders.js';

// ---- builders (shared ones in ./builders.ts) --------------------------------------------

const PHONE_NUMBER_ID = '114958372610583';
const SECRETS = { accessToken: 'EAAG-test-access-token', appSecret: 'b7c1d2e3f4a5968778695a4b3c2d1e0f', verifyToken: 'roost-verify-7f3a' };
const GRAPH = 'https://graph.facebook.com/v21.0';

const channel = channelBuilder('whatsapp', { settings: { phoneNumberId: PHONE_NUMBER_ID, baseUrl: GRAPH }, secrets: SECRETS });

const ctxFor = (ch: Channel) => contextFor(ch);

/** A notification POST with these raw bytes, signed with the app secret unless told otherwise (null: no header). */
function post(ctx: ChannelContext, raw: Buffer | string, signature?: string | null): InboundRequest {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
  const sig = signature !== undefined ? signature : hubSignature(SECRETS.appSecret, bytes);
  return inboundRequest(ctx.inboundUrl, bytes, { headers: sig === null ? {} : { 'x-hub-signature-256': sig } });
}

function handshake(ctx: ChannelContext, query: Record<string, string>): InboundRequest {
  return inboundRequest(`${ctx.inboundUrl}?${new URLSearchParams(query)}`, undefined, { method: 'GET', contentType: null });
}

const message = (ch: Channel, type: MessageType, content: MessageContent, to = '+31612345678') =>
  outboundMessage(ch, type, content, { from: PHONE_NUMBER_ID, to });

// ---- settings ---------------------------------------------------------------------------

describe('whatsapp parseSettings', () => {
  const valid = { phoneNumberId: PHONE_NUMBER_ID, ...SECRETS };

  it('splits public settings from the three write-only secrets', () => {
    const out = whatsappConnector.parseSettings(valid);
    expect(out.settings).toEqual({ phoneNumberId: PHONE_NUMBER_ID, baseUrl: GRAPH });
    expect(out.secrets).toEqual(SECRETS);
    const serialised = JSON.stringify(out.settings);
    for (const secret of Object.values(SECRETS)) expect(serialised).not.toContain(secret);
  });

  it('takes an optional fromNumber (normalised) and a numeric phoneNumberId', () => {
    const out = whatsappConnector.parseSettings({ ...valid, phoneNumberId: 114958372610583, fromNumber: '+1 555 024 3178' });
    expect(out.settings).toEqual({ phoneNumberId: PHONE_NUMBER_ID, baseUrl: GRAPH, fromNumber: '+15550243178' });
  });

  it.each(['phoneNumberId', 'accessToken', 'appSecret', 'verifyToken'])('requires %s', (key) => {
    const input: Record<string, unknown> = { ...valid };
    delete input[key];
    expect(thrown(() => whatsappConnector.parseSettings(input))).toMatchObject({ kind: 'missing_parameter', parameter: `settings.${key}` });
  });

  it('refuses invalid values and unknown keys', () => {
    for (const phoneNumberId of ['abc', '12 34', 1.5, -3, {}]) {
      expect(thrown(() => whatsappConnector.parseSettings({ ...valid, phoneNumberId })).parameter).toBe('settings.phoneNumberId');
    }
    expect(thrown(() => whatsappConnector.parseSettings({ ...valid, fromNumber: 'nope' })).parameter).toBe('settings.fromNumber');
    for (const baseUrl of ['ftp://graph.facebook.com', 'graph.facebook.com', 'https://graph.facebook.com/v21.0?x=1']) {
      expect(thrown(() => whatsappConnector.parseSettings({ ...valid, baseUrl }))).toMatchObject({ kind: 'invalid_parameter', parameter: 'settings.baseUrl' });
    }
    expect(thrown(() => whatsappConnector.parseSettings({ ...valid, appSecret: 5 })).parameter).toBe('settings.appSecret');
    expect(thrown(() => whatsappConnector.parseSettings({ ...valid, wabaId: '1' })).parameter).toBe('settings.wabaId');
  });

  it('keeps unnamed values on PATCH', () => {
    const previous = whatsappConnector.parseSettings({ ...valid, baseUrl: 'http://127.0.0.1:9/v21.0/' });
    expect(previous.settings.baseUrl).toBe('http://127.0.0.1:9/v21.0');
    const patched = whatsappConnector.parseSettings({ accessToken: 'rotated' }, previous);
    expect(patched.settings).toEqual(previous.settings);
    expect(patched.secrets).toEqual({ ...SECRETS, accessToken: 'rotated' });
    expect(thrown(() => whatsappConnector.parseSettings({ verifyToken: null }, previous)).parameter).toBe('settings.verifyToken');
  });
});

// ---- verify -----------------------------------------------------------------------------

describe('whatsapp verify', () => {
  const ctx = ctxFor(channel());

  it('matches the self-generated vectors of reference §3.2, including escaped unicode', () => {
    expect(hubSignature('my_app_secret', Buffer.from('{"object":"whatsapp_business_account","entry":[]}')))
      .toBe('sha256=1e948187320e1d8a8ab09e20b7172f8fe97e79394c0980b59b485e00288e389d');
    expect(hubSignature('my_app_secret', Buffer.from('{"text":"caf\\u00e9"}')))
      .toBe('sha256=018fcd64c00d0035d199490070eab7aa3e211c2bdba792b7d1ba8dd57c2e438c');
    const vctx = ctxFor(channel({}, { appSecret: 'my_app_secret' }));
    const raw = Buffer.from('{"text":"caf\\u00e9"}');
    expect(whatsappConnector.verify(post(vctx, raw, 'sha256=018fcd64c00d0035d199490070eab7aa3e211c2bdba792b7d1ba8dd57c2e438c'), vctx)).toEqual({ ok: true });
    // The same document re-serialised (é as UTF-8) is other bytes: the signature no longer fits.
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw.toString())));
    expect(whatsappConnector.verify(post(vctx, reserialised, 'sha256=018fcd64c00d0035d199490070eab7aa3e211c2bdba792b7d1ba8dd57c2e438c'), vctx)).toMatchObject({ ok: false });
  });

  it('accepts a fixture signed over its raw bytes; upper-case hex too', () => {
    const raw = whatsappFixtureBytes('text-escaped-unicode.json');
    expect(whatsappConnector.verify(post(ctx, raw), ctx)).toEqual({ ok: true });
    expect(whatsappConnector.verify(post(ctx, raw, hubSignature(SECRETS.appSecret, raw).toUpperCase().replace('SHA256=', 'sha256=')), ctx)).toEqual({ ok: true });
  });

  it('refuses a missing (401) or wrong (403) signature', () => {
    const raw = whatsappFixtureBytes('text.json');
    expect(whatsappConnector.verify(post(ctx, raw, null), ctx)).toMatchObject({ ok: false, status: 401 });
    expect(whatsappConnector.verify(post(ctx, raw, ''), ctx)).toMatchObject({ ok: false, status: 401 });
    expect(whatsappConnector.verify(post(ctx, raw, hubSignature('another-secret', raw)), ctx)).toMatchObject({ ok: false, status: 403 });
    expect(whatsappConnector.verify(post(ctx, raw, hubSignature(SECRETS.appSecret, raw).replace('sha256=', 'sha1=')), ctx)).toMatchObject({ ok: false, status: 403 });
    expect(whatsappConnector.verify(post(ctx, raw, hubSignature(SECRETS.appSecret, raw).slice(0, -1)), ctx)).toMatchObject({ ok: false, status: 403 });
    const tampered = Buffer.from(raw.toString().replace('vrijdag', 'zaterdag'));
    expect(whatsappConnector.verify(post(ctx, tampered, hubSignature(SECRETS.appSecret, raw)), ctx)).toMatchObject({ ok: false, status: 403 });
  });

  it('accepts the GET handshake only with hub.mode=subscribe and the verify token', () => {
    const ok = { 'hub.mode': 'subscribe', 'hub.challenge': '1158201444', 'hub.verify_token': SECRETS.verifyToken };
    expect(whatsappConnector.verify(handshake(ctx, ok), ctx)).toEqual({ ok: true });
    expect(whatsappConnector.verify(handshake(ctx, { ...ok, 'hub.verify_token': 'guess' }), ctx)).toMatchObject({ ok: false, status: 403 });
    expect(whatsappConnector.verify(handshake(ctx, { ...ok, 'hub.mode': 'unsubscribe' }), ctx)).toMatchObject({ ok: false, status: 403 });
    const { 'hub.verify_token': _t, ...noToken } = ok;
    expect(whatsappConnector.verify(handshake(ctx, noToken), ctx)).toMatchObject({ ok: false, status: 403 });
  });

  it('refuses other methods', () => {
    expect(whatsappConnector.verify({ ...post(ctx, '{}'), method: 'PUT' }, ctx)).toMatchObject({ ok: false, status: 405 });
  });
});

// ---- parse ------------------------------------------------------------------------------

describe('whatsapp parse (handshake)', () => {
  const ctx = ctxFor(channel());

  it('answers hub.challenge verbatim as text/plain', () => {
    const req = handshake(ctx, { 'hub.mode': 'subscribe', 'hub.challenge': '1158201444', 'hub.verify_token': SECRETS.verifyToken });
    expect(whatsappConnector.parse(req, ctx)).toEqual({ items: [], response: { status: 200, contentType: 'text/plain; charset=utf-8', body: '1158201444' } });
  });

  it('refuses a handshake without a challenge', () => {
    expect(thrown(() => whatsappConnector.parse(handshake(ctx, { 'hub.mode': 'subscribe', 'hub.verify_token': SECRETS.verifyToken }), ctx)).kind).toBe('bad_request');
  });
});

describe('whatsapp parse (messages)', () => {
  const ctx = ctxFor(channel());
  const parse = (name: string) => whatsappConnector.parse(post(ctx, whatsappFixtureBytes(name)), ctx).items;
  const media = (id: string) => `${GRAPH}/${id}`;

  it('parses a text message with the profile name and the display number as to', () => {
    expect(parse('text.json')).toEqual([
      {
        kind: 'message',
        providerMessageId: 'wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQUJGMEQ4MjE0NkE3QjE2OEY0NwA=',
        contact: { key: 'phonenumber', value: '+31612345678' },
        contactName: 'Anouk de Vries',
        from: '+31612345678',
        to: '+15550243178',
        type: 'text',
        content: { text: 'Kan ik mijn afspraak verzetten naar vrijdag?' },
      },
    ]);
  });

  it('decodes escaped unicode from the raw bytes', () => {
    expect(parse('text-escaped-unicode.json')).toEqual([
      expect.objectContaining({
        contactName: 'Zoë Müller',
        from: '+4915112345678',
        content: { text: 'Grüße aus Köln — café at 14:00? 👍 https://example.com/a/b' },
      }),
    ]);
  });

  it('stores an image as its Graph media URL with the caption', () => {
    expect(parse('image.json')).toEqual([
      expect.objectContaining({ type: 'image', content: { image: { url: media('1203948576102938'), caption: 'Zo ziet de lekkage eruit' } } }),
    ]);
  });

  it('maps video, voice, document and sticker', () => {
    const items = parse('media-kinds.json') as InboundMessage[];
    expect(items.map((i) => [i.type, i.content])).toEqual([
      ['video', { video: { url: media('2203948576102931'), caption: 'De kraan lekt nog steeds' } }],
      ['audio', { audio: { url: media('2203948576102932') } }],
      ['file', { file: { url: media('2203948576102933'), caption: 'Factuur maart' } }],
      ['image', { image: { url: media('2203948576102934') } }],
    ]);
    expect(new Set(items.map((i) => i.providerMessageId)).size).toBe(4);
  });

  it('parses a location', () => {
    expect(parse('location.json')).toEqual([
      expect.objectContaining({ type: 'location', content: { location: { latitude: 52.3731339, longitude: 4.8924534 } } }),
    ]);
  });

  it('keeps button and list replies as the text the person chose', () => {
    const items = parse('replies.json') as InboundMessage[];
    expect(items.map((i) => i.content)).toEqual([{ text: 'Ja, verzetten' }, { text: 'Vrijdag 10:00' }, { text: 'Stop promoties' }]);
  });

  it('skips message types Roost cannot show', () => {
    expect(parse('unsupported.json')).toEqual([]);
  });

  it('iterates every entry and change of a batch and skips other phone numbers', () => {
    const items = parse('batch.json');
    expect(items).toEqual([
      expect.objectContaining({ kind: 'message', from: '+31612345678', contactName: 'Anouk de Vries', content: { text: 'Eerste bericht' } }),
      expect.objectContaining({ kind: 'message', from: '+447700900123', contactName: 'Ravi Sharma', content: { text: 'Hello from London' } }),
      { kind: 'status', providerMessageId: 'wamid.HBgLMzE2MTIzNDU2NzgVAgARGBJGMDAwT1VUQk9VTkQwMDAwNAA=', status: 'delivered' },
    ]);
    // The third entry belongs to the channel for phone number 556677889900112.
    const other = ctxFor(channel({ phoneNumberId: '556677889900112' }));
    expect(whatsappConnector.parse(post(other, whatsappFixtureBytes('batch.json')), other).items).toEqual([
      expect.objectContaining({ from: '+33612345678', to: '+15550009999', content: { text: 'Pour un autre numéro' } }),
    ]);
  });

  it('falls back to fromNumber, then the phone number id, when metadata has no display number', () => {
    const body = whatsappFixture('text.json');
    delete body.entry[0].changes[0].value.metadata.display_phone_number;
    expect(whatsappConnector.parse(post(ctx, metaJson(body)), ctx).items[0]).toMatchObject({ to: PHONE_NUMBER_ID });
    const withNumber = ctxFor(channel({ fromNumber: '+15550243178' }));
    expect(whatsappConnector.parse(post(withNumber, metaJson(body)), withNumber).items[0]).toMatchObject({ to: '+15550243178' });
  });

  it('skips single malformed messages instead of refusing the batch', () => {
    const body = whatsappFixture('text.json');
    const good = body.entry[0].changes[0].value.messages[0];
    body.entry[0].changes[0].value.messages = [
      { ...good, id: undefined },
      { ...good, id: 'wamid.A', from: 'not-a-number' },
      { ...good, id: 'wamid.B', text: {} },
      { ...good, id: 'wamid.C', type: 'image', image: { caption: 'no id' } },
      { ...good, id: 'wamid.D', type: 'location', location: { latitude: 91, longitude: 0 } },
      'junk',
      good,
    ];
    expect(whatsappConnector.parse(post(ctx, metaJson(body)), ctx).items).toEqual([expect.objectContaining({ providerMessageId: good.id })]);
  });

  it('acknowledges other Graph objects and fields, refuses what is not a notification', () => {
    expect(whatsappConnector.parse(post(ctx, '{"object":"page","entry":[]}'), ctx).items).toEqual([]);
    const body = whatsappFixture('text.json');
    body.entry[0].changes[0].field = 'account_update';
    expect(whatsappConnector.parse(post(ctx, metaJson(body)), ctx).items).toEqual([]);
    for (const raw of ['{"object":', '[]', '"x"', '{"entry":[]}', '{"object":"whatsapp_business_account","entry":{}}']) {
      expect(thrown(() => whatsappConnector.parse(post(ctx, raw), ctx)).kind).toBe('bad_request');
    }
  });
});

describe('whatsapp parse (statuses)', () => {
  const ctx = ctxFor(channel());
  const parse = (body: unknown) => whatsappConnector.parse(post(ctx, typeof body === 'string' ? body : metaJson(body)), ctx).items;
  const WAMID = 'wamid.HBgLMzE2MTIzNDU2NzgVAgARGBJGMDAwT1VUQk9VTkQwMDAwNQA=';

  it.each([
    ['status-sent.json', 'sent'],
    ['status-delivered.json', 'delivered'],
    ['status-read.json', 'read'],
  ])('parses %s as %s', (name, status) => {
    expect(parse(whatsappFixtureBytes(name).toString())).toEqual([{ kind: 'status', providerMessageId: WAMID, status }]);
  });

  it('carries the error of a failed message', () => {
    expect(parse(whatsappFixtureBytes('status-failed.json').toString())).toEqual([
      { kind: 'status', providerMessageId: WAMID, status: 'failed', error: { code: 131026, description: 'Message undeliverable: Message Undeliverable.' } },
    ]);
    const titleOnly = whatsappStatusNotification({ phoneNumberId: PHONE_NUMBER_ID }, WAMID, 'failed', '+31612345678', {
      errors: [{ code: 131014, title: 'Request for url https://URL.jpg failed with error: 404 (Not Found)' }],
    });
    expect((parse(titleOnly)[0] as StatusUpdate).error).toEqual({ code: 131014, description: 'Request for url https://URL.jpg failed with error: 404 (Not Found)' });
    const bare = whatsappStatusNotification({ phoneNumberId: PHONE_NUMBER_ID }, WAMID, 'failed', '+31612345678');
    expect((parse(bare)[0] as StatusUpdate).error).toEqual({ code: 0, description: 'WhatsApp reported the message failed' });
  });

  it('reads played as read and ignores deleted and unknown statuses', () => {
    const status = (s: string) => parse(whatsappStatusNotification({ phoneNumberId: PHONE_NUMBER_ID }, WAMID, s, '+31612345678'));
    expect(status('played')).toEqual([{ kind: 'status', providerMessageId: WAMID, status: 'read' }]);
    expect(status('deleted')).toEqual([]);
    expect(status('warning')).toEqual([]);
  });

  it('takes the Roost message id from biz_opaque_callback_data only when its token checks out', () => {
    const id = newId<'message'>();
    const opaque = `roost:${id}:${callbackToken(id)}`;
    const good = whatsappStatusNotification({ phoneNumberId: PHONE_NUMBER_ID }, WAMID, 'sent', '+31612345678', { biz_opaque_callback_data: opaque });
    expect(parse(good)).toEqual([{ kind: 'status', providerMessageId: WAMID, status: 'sent', messageId: id }]);
    for (const forged of [`roost:${id}:forged`, `roost:${id}`, id, 'something else']) {
      const bad = whatsappStatusNotification({ phoneNumberId: PHONE_NUMBER_ID }, WAMID, 'sent', '+31612345678', { biz_opaque_callback_data: forged });
      expect((parse(bad)[0] as StatusUpdate).messageId).toBeUndefined();
    }
  });
});

// ---- identifiers ------------------------------------------------------------------------

describe('whatsapp addresses', () => {
  it('identifies phone numbers, also in wa_id form', () => {
    expect(whatsappConnector.identifierFor('+31 6 12345678')).toEqual({ key: 'phonenumber', value: '+31612345678' });
    expect(whatsappConnector.identifierFor('31612345678')).toEqual({ key: 'phonenumber', value: '+31612345678' });
    expect(whatsappConnector.identifierFor('whatsapp:+31612345678')).toEqual({ key: 'phonenumber', value: '+31612345678' });
    expect(whatsappConnector.identifierFor('alice')).toBeUndefined();
  });

  it('sends from fromNumber when given, else the phone number id', () => {
    expect(whatsappConnector.ownAddress(channel())).toBe(PHONE_NUMBER_ID);
    expect(whatsappConnector.ownAddress(channel({ fromNumber: '+15550243178' }))).toBe('+15550243178');
  });
});

// ---- send -------------------------------------------------------------------------------

describe('whatsapp send', () => {
  const { fake, http } = useFakeProvider(startFakeWhatsApp);

  const send = (ch: Channel, msg: Message, client: HttpClient = http) => whatsappConnector.send({ message: msg, channel: ch, ctx: ctxFor(ch) }, client);
  const bodyOf = (i: number) => fake.requests[i]!.body as Record<string, unknown>;

  it('posts a text message with the Bearer token', async () => {
    const ch = channel({ baseUrl: fake.url });
    const msg = message(ch, 'text', { text: 'Vrijdag 10:00 is gelukt.' });
    const outcome = await send(ch, msg);

    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe(`/v21.0/${PHONE_NUMBER_ID}/messages`);
    expect(req!.headers.authorization).toBe(`Bearer ${SECRETS.accessToken}`);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '31612345678',
      type: 'text',
      text: { body: 'Vrijdag 10:00 is gelukt.', preview_url: false },
      biz_opaque_callback_data: `roost:${msg.id}:${callbackToken(msg.id)}`,
    });
    expect(outcome).toMatchObject({ kind: 'accepted', status: 'accepted' });
    expect((outcome as { providerMessageId: string }).providerMessageId).toMatch(/^wamid\./);
  });

  it('sends media by link with captions where WhatsApp has them', async () => {
    const ch = channel({ baseUrl: fake.url });
    await send(ch, message(ch, 'image', { image: { url: 'https://cdn.example.com/a.jpg', caption: 'Kijk' } }));
    await send(ch, message(ch, 'video', { video: { url: 'https://cdn.example.com/b.mp4' } }));
    await send(ch, message(ch, 'audio', { audio: { url: 'https://cdn.example.com/c.ogg', caption: 'dropped' } }));
    await send(ch, message(ch, 'file', { file: { url: 'https://cdn.example.com/docs/factuur%20maart.pdf', caption: 'Factuur' } }));
    await send(ch, message(ch, 'file', { file: { url: 'https://cdn.example.com/download?id=7' } }));
    expect(bodyOf(0)).toMatchObject({ type: 'image', image: { link: 'https://cdn.example.com/a.jpg', caption: 'Kijk' } });
    expect(bodyOf(1)).toMatchObject({ type: 'video', video: { link: 'https://cdn.example.com/b.mp4' } });
    expect(bodyOf(2).audio).toEqual({ link: 'https://cdn.example.com/c.ogg' });
    expect(bodyOf(3)).toMatchObject({ type: 'document', document: { link: 'https://cdn.example.com/docs/factuur%20maart.pdf', caption: 'Factuur', filename: 'factuur maart.pdf' } });
    expect(bodyOf(4).document).toEqual({ link: 'https://cdn.example.com/download?id=7' });
  });

  it('sends a location and an hsm as a template', async () => {
    const ch = channel({ baseUrl: fake.url });
    await send(ch, message(ch, 'location', { location: { latitude: 52.3731339, longitude: 4.8924534 } }));
    await send(ch, message(ch, 'hsm', { hsm: { namespace: 'x', templateName: 'order_update', language: { policy: 'deterministic', code: 'nl' }, params: [{ default: '#4411' }] } }));
    expect(bodyOf(0)).toMatchObject({ type: 'location', location: { latitude: 52.3731339, longitude: 4.8924534 } });
    expect(bodyOf(1)).toMatchObject({
      type: 'template',
      template: { name: 'order_update', language: { code: 'nl' }, components: [{ type: 'body', parameters: [{ type: 'text', text: '#4411' }] }] },
    });
    const bad = await send(ch, message(ch, 'hsm', { hsm: { templateName: 'order_update' } }));
    expect(bad).toMatchObject({ kind: 'failed', error: { code: 0 } });
    expect(fake.requests).toHaveLength(2);
  });

  it('reads the wamid of the answer', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 200, json: whatsappFixture('send-response.json') }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({
      kind: 'accepted', providerMessageId: 'wamid.HBgLMzE2MTIzNDU2NzgVAgARGBJGMDAwT1VUQk9VTkQwMDAwNQA=', status: 'accepted',
    });
  });

  it('retries a 2xx without a message id', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 200, json: { messaging_product: 'whatsapp', messages: [] } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toMatchObject({ kind: 'retry', error: { code: 0 } });
  });

  it('fails with the Graph error code and description', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 400, json: whatsappFixture('error-131047.json') }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({
      kind: 'failed',
      error: {
        code: 131047,
        description: '(#131047) Re-engagement message: Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
      },
    });
    fake.respondWith(() => ({ status: 401, json: whatsappFixture('error-190.json') }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({
      kind: 'failed',
      error: { code: 190, description: 'Error validating access token: Session has expired on Monday, 14-Apr-25 05:00:00 PDT.' },
    });
    fake.respondWith(() => ({ status: 403 }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'failed', error: { code: 403, description: 'WhatsApp answered 403' } });
  });

  it.each([4, 80007, 130429, 131048, 131056, 133016])('retries throttling code %i even on HTTP 400', async (code) => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 400, json: { error: { message: `(#${code}) throttled`, type: 'OAuthException', code } } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'retry', error: { code, description: `(#${code}) throttled` } });
  });

  it('retries the throughput fixture, 429 with Retry-After, and 5xx', async () => {
    const ch = channel({ baseUrl: fake.url });
    fake.respondWith(() => ({ status: 400, json: whatsappFixture('error-130429.json') }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({
      kind: 'retry', error: { code: 130429, description: '(#130429) Rate limit hit: Cloud API message throughput has been reached.' },
    });
    fake.respondWith(() => ({ status: 429, headers: { 'retry-after': '2' } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'retry', error: { code: 429, description: 'WhatsApp answered 429' }, retryAfterMs: 2000 });
    fake.respondWith(() => ({ status: 500, json: { error: { message: 'An unknown error occurred', type: 'OAuthException', code: 1 } } }));
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toEqual({ kind: 'retry', error: { code: 1, description: 'An unknown error occurred' } });
  });

  it('retries when nothing listens on the port', async () => {
    const ch = channel({ baseUrl: `http://127.0.0.1:${await closedPort()}/v21.0` });
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

  it('fails without calling Graph when the access token is missing', async () => {
    const ch = channel({ baseUrl: fake.url });
    ch.secrets = {};
    expect(await send(ch, message(ch, 'text', { text: 'hi' }))).toMatchObject({ kind: 'failed' });
    expect(fake.requests).toHaveLength(0);
  });
});
