import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ISO_DATETIME, conversationsOf, countEvents, createChannel, expectError, messagesOf, msisdnOf, phoneFactory, providerIdOf,
  sendJobDone, sleep, totalConversations, updatedStatusesOf, waitForStatus,
} from '../helpers/e2e-fixtures.js';
import type { Api, ChannelView, Json } from '../helpers/e2e-fixtures.js';
import {
  messageResource, newSid, postTwilioWebhook, startFakeTwilio, twilioFormFixture, twilioJsonFixture, twilioSignature, twilioStatusFields,
} from '../helpers/fake-twilio.js';
import type { FakeResponse, FakeTwilio, FormFields, RecordedRequest, Responder, WebhookAnswer } from '../helpers/fake-twilio.js';
import { apiClient, eventually, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';

const ACCOUNT_SID = 'AC7d1e3c0f5b9a4e2d8c6b1a0f9e8d7c6b';
const AUTH_TOKEN = 'twilio-e2e-auth-token-0001';
const SMS_NUMBER = '+3197010251234';
const WA_NUMBER = '+14155238886';
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
/**
 * Twilio's own middleware answers 403 to a bad signature and 400 to a missing one; Roost's
 * core currently answers 401 to every refused signature. Either is a refusal Twilio will not
 * treat as delivered; the suite accepts both so it holds when the core starts honouring the
 * connector's status.
 */
const REFUSED = [400, 401, 403];

const text = (f: FormFields, k: string) => (Array.isArray(f[k]) ? f[k][0] : f[k]) as string | undefined;

/** Scripts the fake Twilio per recipient (`To`): queued answers first, then a 201 whose sid is remembered. */
function scriptTwilio(fake: FakeTwilio) {
  const queues = new Map<string, Array<FakeResponse | Responder>>();
  const sids = new Map<string, string[]>();
  fake.respondWith((req) => {
    const to = text(req.form, 'To') ?? '';
    const queued = queues.get(to)?.shift();
    if (typeof queued === 'function') return queued(req);
    if (queued) return queued;
    const json = messageResource(req.form, ACCOUNT_SID);
    sids.set(to, [...(sids.get(to) ?? []), String(json.sid)]);
    return { status: 201, json };
  });
  return {
    queue: (to: string, ...answers: Array<FakeResponse | Responder>) => queues.set(to, [...(queues.get(to) ?? []), ...answers]),
    sids: (to: string) => sids.get(to) ?? [],
  };
}

describe('twilio channel (end to end)', () => {
  let roost: RoostProcess;
  let fake: FakeTwilio;
  let script: ReturnType<typeof scriptTwilio>;
  let api: Api;
  let sms: ChannelView;
  let wa: ChannelView;
  const phone = phoneFactory();

  const createTwilioChannel = (name: string, fromNumber: string, authToken = AUTH_TOKEN) =>
    createChannel(api, { name, platformId: 'twilio', settings: { accountSid: ACCOUNT_SID, authToken, fromNumber, baseUrl: fake.url } });

  /** An incoming message from `from` on `channel`, from a fixture, signed over the inbound URL. */
  function incoming(channel: ChannelView, fixture: string, from: string, overrides: Record<string, string> = {}): FormFields {
    const whatsapp = String(channel.settings.fromNumber).startsWith('whatsapp:');
    const sid = newSid(fixture.includes('mms') || fixture.includes('image') ? 'MM' : 'SM');
    return {
      ...twilioFormFixture(fixture),
      MessageSid: sid,
      SmsMessageSid: sid,
      SmsSid: sid,
      From: whatsapp ? `whatsapp:${from}` : from,
      To: String(channel.settings.fromNumber),
      ...(whatsapp ? { WaId: from.slice(1) } : {}),
      ...overrides,
    };
  }

  const post = (channel: ChannelView, fields: FormFields, opts: { authToken?: string; signature?: string | null; url?: string } = {}) =>
    postTwilioWebhook(opts.url ?? channel.inboundUrl, fields, { authToken: opts.authToken ?? AUTH_TOKEN, ...(opts.signature !== undefined ? { signature: opts.signature } : {}) });

  const expectTwiml = (res: WebhookAnswer) => {
    expect(res.status, res.body).toBe(200);
    expect(res.contentType).toMatch(/^text\/xml/);
    expect(res.body).toBe(EMPTY_TWIML);
  };

  /** Writes in from `from` and returns the contact's active conversation. */
  async function writeIn(channel: ChannelView, from: string, body = 'Hello'): Promise<Json> {
    expectTwiml(await post(channel, incoming(channel, 'sms-inbound.form', from, { Body: body })));
    const active = (await conversationsOf(api, from)).filter((c) => c.status === 'active');
    expect(active).toHaveLength(1);
    return active[0];
  }

  async function sentTo(to: string, n = 1): Promise<RecordedRequest> {
    await eventually(async () => fake.sends(to).length >= n);
    return fake.sends(to)[n - 1]!;
  }

  beforeAll(async () => {
    fake = await startFakeTwilio();
    script = scriptTwilio(fake);
    roost = await startRoost();
    api = apiClient(roost.url, roost.liveKey!);
    sms = await createTwilioChannel('twilio sms', SMS_NUMBER);
    wa = await createTwilioChannel('twilio whatsapp', `whatsapp:${WA_NUMBER}`);
  });

  afterAll(async () => {
    await roost?.stop();
    await fake?.close();
    if (roost) await removeDataDir(roost.dataDir);
  });

  describe('channel management', () => {
    it('creates a twilio channel whose authToken is write-only', async () => {
      const res = await api('POST', '/v1/channels', {
        name: 'support sms',
        platformId: 'twilio',
        settings: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, fromNumber: '+31 970 1025 1299', baseUrl: fake.url },
      });
      expect(res.status, res.text).toBe(201);
      expect(res.json).toMatchObject({
        name: 'support sms',
        platformId: 'twilio',
        status: 'active',
        settings: { accountSid: ACCOUNT_SID, fromNumber: '+3197010251299', baseUrl: fake.url },
        inboundUrl: `${roost.url}/inbound/${res.json.id}`,
        createdDatetime: expect.stringMatching(ISO_DATETIME),
      });
      expect(Object.keys(res.json.settings).sort()).toEqual(['accountSid', 'baseUrl', 'fromNumber']);
      for (const body of [res.text, (await api('GET', `/v1/channels/${res.json.id}`)).text]) {
        expect(body).not.toContain(AUTH_TOKEN);
        expect(body).not.toContain('authToken');
      }
      const patched = await api('PATCH', `/v1/channels/${res.json.id}`, { settings: { fromNumber: 'whatsapp:+3197010251299' } });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.json.settings).toEqual({ accountSid: ACCOUNT_SID, fromNumber: 'whatsapp:+3197010251299', baseUrl: fake.url });
      expect(patched.text).not.toContain(AUTH_TOKEN);
    });

    it('refuses invalid settings with the parameter named', async () => {
      const res = await api('POST', '/v1/channels', { name: 'x', platformId: 'twilio', settings: { accountSid: 'AC1', authToken: 't', fromNumber: SMS_NUMBER } });
      expectError(res, 422, 10, 'settings.accountSid');
    });
  });

  describe('incoming messages', () => {
    it('stores an SMS, answers empty TwiML and threads it into a conversation', async () => {
      const from = phone();
      const fields = incoming(sms, 'sms-inbound.form', from);
      const before = await countEvents(roost);
      expectTwiml(await post(sms, fields));
      expect(await countEvents(roost)).toBeGreaterThan(before);

      const [conv] = await conversationsOf(api, from);
      expect(conv).toMatchObject({
        contact: { msisdn: msisdnOf(from) },
        channels: [{ id: sms.id, platformId: 'twilio' }],
        status: 'active',
        lastUsedChannelId: sms.id,
        messages: { totalCount: 1 },
      });
      const msgs = await messagesOf(api, conv.id);
      expect(msgs.items[0]).toMatchObject({
        channelId: sms.id,
        platform: 'twilio',
        direction: 'received',
        status: 'received',
        from,
        to: SMS_NUMBER,
        type: 'text',
        content: { text: 'Hoi, is mijn bestelling #4411 al verzonden? 🙂' },
      });
      expect(await providerIdOf(roost, msgs.items[0].id)).toBe(fields.MessageSid);
    });

    it('stores an MMS as media messages: the first captioned with the Body', async () => {
      const from = phone();
      const fields = incoming(sms, 'mms-inbound.form', from);
      expectTwiml(await post(sms, fields));
      const [conv] = await conversationsOf(api, from);
      const msgs = await messagesOf(api, conv.id);
      expect(msgs.totalCount).toBe(2);
      const byType = Object.fromEntries(msgs.items.map((m: Json) => [m.type, m.content]));
      expect(byType.image).toEqual({ image: { url: text(fields, 'MediaUrl0'), caption: 'Photo of the damaged box, and the delivery note' } });
      expect(byType.file).toEqual({ file: { url: text(fields, 'MediaUrl1') } });
    });

    it('stores WhatsApp text, image and location with the whatsapp: prefix stripped and the profile name', async () => {
      const from = phone();
      expectTwiml(await post(wa, incoming(wa, 'whatsapp-inbound.form', from)));
      expectTwiml(await post(wa, incoming(wa, 'whatsapp-image.form', from)));
      expectTwiml(await post(wa, incoming(wa, 'whatsapp-location.form', from)));
      const convs = await conversationsOf(api, from);
      expect(convs).toHaveLength(1);
      expect(convs[0].contact).toMatchObject({ msisdn: msisdnOf(from), displayName: 'Anouk de Vries' });
      const msgs = await messagesOf(api, convs[0].id);
      expect(msgs.items.map((m: Json) => [m.type, m.from, m.to])).toEqual([
        ['location', from, WA_NUMBER],
        ['image', from, WA_NUMBER],
        ['text', from, WA_NUMBER],
      ]);
      expect(msgs.items[0].content).toEqual({ location: { latitude: 52.3731339, longitude: 4.8924534 } });
      expect(msgs.items[1].content.image.caption).toBe('Zo ziet de lekkage eruit');
    });

    it('refuses a missing, wrong or misdirected signature, logs it and stores nothing', async () => {
      const from = phone();
      const fields = incoming(sms, 'sms-inbound.form', from);
      const conversations = await totalConversations(api);
      const events = await countEvents(roost);

      const missing = await post(sms, fields, { signature: null });
      const wrong = await post(sms, fields, { authToken: 'not-the-token' });
      // Signed for the SMS channel's URL, replayed to the WhatsApp channel (same auth token).
      const otherChannel = await postTwilioWebhook(wa.inboundUrl, fields, { authToken: AUTH_TOKEN, signedUrl: sms.inboundUrl });
      const tampered = await postTwilioWebhook(sms.inboundUrl, { ...fields, Body: 'changed' }, {
        signature: twilioSignature(AUTH_TOKEN, sms.inboundUrl, fields),
      });
      for (const res of [missing, wrong, otherChannel, tampered]) {
        expect(REFUSED, `${res.status} ${res.body}`).toContain(res.status);
        expect(res.body).not.toContain('Response');
      }
      expect(await totalConversations(api)).toBe(conversations);
      expect(await countEvents(roost)).toBe(events);
      await eventually(async () => roost.output().includes('inbound webhook refused'));

      // The refused MessageSid was not remembered: the correctly signed delivery is stored.
      expectTwiml(await post(sms, fields));
      expect(await conversationsOf(api, from)).toHaveLength(1);
    });

    it('stores a MessageSid delivered twice, or five times at once, as one message', async () => {
      const from = phone();
      const fields = incoming(sms, 'sms-inbound.form', from, { Body: 'twice' });
      expectTwiml(await post(sms, fields));
      expectTwiml(await post(sms, fields));
      const racing = incoming(sms, 'sms-inbound.form', from, { Body: 'race' });
      const answers = await Promise.all(Array.from({ length: 5 }, () => post(sms, racing)));
      for (const a of answers) expectTwiml(a);
      const [conv] = await conversationsOf(api, from);
      expect(conv.messages.totalCount).toBe(2);
      const msgs = await messagesOf(api, conv.id);
      expect(msgs.items.map((m: Json) => m.content.text).sort()).toEqual(['race', 'twice']);
    });

    it('answers a malformed but signed webhook with 400 and stores nothing', async () => {
      const conversations = await totalConversations(api);
      const res = await post(sms, incoming(sms, 'sms-inbound.form', phone(), { From: 'not-a-number' }));
      expect(res.status, res.body).toBe(400);
      expect(await totalConversations(api)).toBe(conversations);
    });
  });

  describe('replies and status callbacks', () => {
    it('replies through the Messages API and moves the status forward only', async () => {
      const to = phone();
      const conv = await writeIn(sms, to, 'Wanneer komt mijn pakket?');
      const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'Morgen tussen 9 en 12.' } });
      expect(reply.status, reply.text).toBe(201);
      const message = reply.json;
      expect(message).toMatchObject({ channelId: sms.id, platform: 'twilio', direction: 'sent', status: 'accepted', from: SMS_NUMBER, to });

      const req = await sentTo(to);
      expect(req.method).toBe('POST');
      expect(req.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
      expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`);
      expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
      const callback = text(req.form, 'StatusCallback')!;
      expect(req.form).toEqual({ To: to, From: SMS_NUMBER, Body: 'Morgen tussen 9 en 12.', StatusCallback: callback });
      expect(callback).toMatch(new RegExp(`^${sms.inboundUrl}\\?message=${message.id}&token=[A-Za-z0-9_-]+$`));

      await waitForStatus(api, message.id, 'pending'); // Twilio answered "queued"
      const [sid] = script.sids(to);
      const status = (s: string, extra: Record<string, string> = {}) =>
        postTwilioWebhook(callback, twilioStatusFields({ MessageSid: sid!, MessageStatus: s, To: to, From: SMS_NUMBER, ...extra }), { authToken: AUTH_TOKEN });

      expectTwiml(await status('sent'));
      expect((await api('GET', `/v1/messages/${message.id}`)).json.status).toBe('sent');
      expectTwiml(await status('delivered'));
      expect((await api('GET', `/v1/messages/${message.id}`)).json.status).toBe('delivered');
      expectTwiml(await status('sent')); // late and out of order
      expect((await api('GET', `/v1/messages/${message.id}`)).json.status).toBe('delivered');
      expectTwiml(await status('read'));
      const read = await api('GET', `/v1/messages/${message.id}`);
      expect(read.json).toMatchObject({ status: 'read' });
      expect(read.json.error).toBeUndefined();
      expect(await updatedStatusesOf(roost, conv.id, message.id)).toEqual(['pending', 'sent', 'delivered', 'read']);
      expect(fake.sends(to)).toHaveLength(1);
    });

    it('refuses a status callback not signed over its own URL', async () => {
      const to = phone();
      const res = await api('POST', '/v1/send', { from: sms.id, to, type: 'text', content: { text: 'signed callbacks only' } });
      expect(res.status, res.text).toBe(202);
      const callback = text((await sentTo(to)).form, 'StatusCallback')!;
      await waitForStatus(api, res.json.id, 'pending');
      const fields = twilioStatusFields({ MessageSid: script.sids(to)[0]!, MessageStatus: 'delivered', To: to });
      // Signed over the bare inbound URL but delivered to the callback URL (query left out of the signature).
      const bad = await postTwilioWebhook(callback, fields, { signature: twilioSignature(AUTH_TOKEN, sms.inboundUrl, fields) });
      expect(REFUSED).toContain(bad.status);
      expect((await api('GET', `/v1/messages/${res.json.id}`)).json.status).toBe('pending');
      // A status callback correctly signed for the plain inbound URL (a Messaging Service callback) applies by MessageSid.
      expectTwiml(await post(sms, fields));
      expect((await api('GET', `/v1/messages/${res.json.id}`)).json.status).toBe('delivered');
    });

    it('marks a message failed with ErrorCode when Twilio reports it undelivered', async () => {
      const to = phone();
      const res = await api('POST', '/v1/send', { from: sms.id, to, type: 'text', content: { text: 'to a landline' } });
      expect(res.status, res.text).toBe(202);
      const callback = text((await sentTo(to)).form, 'StatusCallback')!;
      await waitForStatus(api, res.json.id, 'pending');
      const fields = { ...twilioFormFixture('status-undelivered.form'), MessageSid: script.sids(to)[0]!, SmsSid: script.sids(to)[0]!, To: to };
      expectTwiml(await postTwilioWebhook(callback, fields, { authToken: AUTH_TOKEN }));
      const failed = await waitForStatus(api, res.json.id, 'failed');
      expect(failed.error).toEqual({ code: 30003, description: 'Twilio reported the message undelivered (error 30003)' });
    });

    it('keeps a status callback that arrives before the Messages API answer', async () => {
      const to = phone();
      let callbackAnswer: WebhookAnswer | undefined;
      script.queue(to, async (req) => {
        const json = messageResource(req.form, ACCOUNT_SID);
        callbackAnswer = await postTwilioWebhook(text(req.form, 'StatusCallback')!, twilioStatusFields({ MessageSid: String(json.sid), MessageStatus: 'delivered', To: to }), { authToken: AUTH_TOKEN });
        return { status: 201, json };
      });
      const res = await api('POST', '/v1/send', { from: sms.id, to, type: 'text', content: { text: 'fast callback' } });
      expect(res.status, res.text).toBe(202);
      const id = res.json.id as string;
      await sentTo(to);
      await eventually(() => sendJobDone(roost, id));
      expectTwiml(callbackAnswer!);
      const m = await api('GET', `/v1/messages/${id}`);
      expect(m.json.status).toBe('delivered');
      expect(await updatedStatusesOf(roost, m.json.conversationId, id)).toEqual(['delivered']);
    });

    it('marks a message failed with Twilio\'s error when the API refuses it, without retrying', async () => {
      const to = phone();
      script.queue(to, { status: 400, json: twilioJsonFixture('error-21211.json') });
      const res = await api('POST', '/v1/send', { from: sms.id, to, type: 'text', content: { text: 'will fail' } });
      expect(res.status, res.text).toBe(202);
      const failed = await waitForStatus(api, res.json.id, 'failed');
      expect(failed.error).toEqual({ code: 21211, description: "Invalid 'To' Phone Number: +3161234567" });
      await sleep(300);
      expect(fake.sends(to)).toHaveLength(1);
    });

    it('retries a 5xx, then records the sid', async () => {
      const to = phone();
      script.queue(to, { status: 503, json: { code: 20503, message: 'Service Unavailable', status: 503 } });
      const res = await api('POST', '/v1/send', { from: sms.id, to, type: 'text', content: { text: 'second time lucky' } });
      expect(res.status, res.text).toBe(202);
      await sentTo(to, 1);
      await sleep(100);
      expect((await api('GET', `/v1/messages/${res.json.id}`)).json.status).toBe('accepted');
      await sentTo(to, 2);
      const done = await waitForStatus(api, res.json.id, 'pending');
      expect(done.error).toBeUndefined();
      expect(await providerIdOf(roost, res.json.id)).toBe(script.sids(to)[0]);
    });

    it('sends media and a WhatsApp location through a WhatsApp sender', async () => {
      const to = phone();
      const conv = await (async () => {
        expectTwiml(await post(wa, incoming(wa, 'whatsapp-inbound.form', to)));
        return (await conversationsOf(api, to))[0];
      })();
      const image = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'image', content: { image: { url: 'https://cdn.example.com/label.png', caption: 'Retourlabel' } } });
      expect(image.status, image.text).toBe(201);
      const first = await sentTo(`whatsapp:${to}`);
      expect(first.form).toMatchObject({ To: `whatsapp:${to}`, From: `whatsapp:${WA_NUMBER}`, MediaUrl: 'https://cdn.example.com/label.png', Body: 'Retourlabel' });
      const loc = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'location', content: { location: { latitude: 52.37, longitude: 4.89 } } });
      expect(loc.status, loc.text).toBe(201);
      expect((await sentTo(`whatsapp:${to}`, 2)).form).toMatchObject({ PersistentAction: 'geo:52.37,4.89' });
      expect(image.json).toMatchObject({ channelId: wa.id, from: WA_NUMBER, to });
    });
  });

  describe('threading across SMS and WhatsApp', () => {
    it('is one contact and one conversation; a reply goes where the contact last wrote from', async () => {
      const from = phone();
      const first = await writeIn(sms, from, 'over SMS');
      expectTwiml(await post(wa, incoming(wa, 'whatsapp-inbound.form', from, { Body: 'and over WhatsApp' })));
      const convs = await conversationsOf(api, from);
      expect(convs).toHaveLength(1);
      const conv = convs[0];
      expect(conv.id).toBe(first.id);
      expect(conv.channels.map((c: Json) => c.id)).toEqual([sms.id, wa.id]);
      expect(conv.messages.totalCount).toBe(2);

      const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'on WhatsApp' } });
      expect(reply.status, reply.text).toBe(201);
      expect(reply.json).toMatchObject({ channelId: wa.id, from: WA_NUMBER, to: from });
      expect((await sentTo(`whatsapp:${from}`)).form).toMatchObject({ To: `whatsapp:${from}`, From: `whatsapp:${WA_NUMBER}`, Body: 'on WhatsApp' });

      await writeIn(sms, from, 'back on SMS');
      const reply2 = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'on SMS' } });
      expect(reply2.status, reply2.text).toBe(201);
      expect(reply2.json).toMatchObject({ channelId: sms.id, from: SMS_NUMBER });
      expect((await sentTo(from)).form).toMatchObject({ To: from, From: SMS_NUMBER, Body: 'on SMS' });
    });
  });
});
