import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ISO_DATETIME, conversationsOf, countEvents, createChannel, createSendblueChannel, expectError, messagesOf, msisdnOf, phoneFactory,
  postInbound, providerIdOf, sendJobDone, sleep, totalConversations, updatedStatusesOf, waitForStatus,
} from '../helpers/e2e-fixtures.js';
import type { Api, ChannelView, Json } from '../helpers/e2e-fixtures.js';
import { sendblueInboundPayload, startFakeSendblue } from '../helpers/fake-sendblue.js';
import type { FakeSendblue } from '../helpers/fake-sendblue.js';
import { newSid, postTwilioWebhook, startFakeTwilio, twilioFormFixture } from '../helpers/fake-twilio.js';
import type { FakeTwilio } from '../helpers/fake-twilio.js';
import {
  GRAPH_VERSION, hubSignature, metaJson, newWamid, postWhatsAppNotification, sendResponse, startFakeWhatsApp, whatsappFixture,
  whatsappFixtureBytes, whatsappHandshake, whatsappStatusNotification, whatsappTextNotification,
} from '../helpers/fake-whatsapp.js';
import type { FakeResponse, FakeWhatsApp, RecordedRequest, Responder, WebhookAnswer } from '../helpers/fake-whatsapp.js';
import { apiClient, eventually, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';

const PHONE_NUMBER_ID = '114958372610583';
const DISPLAY_NUMBER = '+15550243178';
const SECRETS = { accessToken: 'EAAG-e2e-access-token-0001', appSecret: 'wa-e2e-app-secret-0001', verifyToken: 'wa-e2e-verify-token-0001' };
/** Meta expects 403 for a bad verify token; Roost's core currently answers 401 to every refusal. */
const REFUSED = [401, 403];

const digits = (e164: string) => e164.replace(/^\+/, '');

/** Scripts the fake Graph API per recipient (`to`, digits): queued answers first, then a success whose wamid is remembered. */
function scriptWhatsApp(fake: FakeWhatsApp) {
  const queues = new Map<string, Array<FakeResponse | Responder>>();
  const wamids = new Map<string, string[]>();
  fake.respondWith((req) => {
    const to = String((req.body as Record<string, unknown> | undefined)?.to ?? '');
    const queued = queues.get(to)?.shift();
    if (typeof queued === 'function') return queued(req);
    if (queued) return queued;
    const json = sendResponse(req.body);
    const id = (json.messages as Array<{ id: string }>)[0]!.id;
    wamids.set(to, [...(wamids.get(to) ?? []), id]);
    return { status: 200, json };
  });
  return {
    queue: (to: string, ...answers: Array<FakeResponse | Responder>) => queues.set(to, [...(queues.get(to) ?? []), ...answers]),
    wamids: (to: string) => wamids.get(to) ?? [],
  };
}

describe('whatsapp channel (end to end)', () => {
  let roost: RoostProcess;
  let fake: FakeWhatsApp;
  let script: ReturnType<typeof scriptWhatsApp>;
  let api: Api;
  let wa: ChannelView;
  const phone = phoneFactory();
  const meta = { phoneNumberId: PHONE_NUMBER_ID, displayPhoneNumber: digits(DISPLAY_NUMBER) };

  const notify = (payload: unknown, opts: { appSecret?: string; signature?: string | null } = {}) =>
    postWhatsAppNotification(wa.inboundUrl, payload, { appSecret: SECRETS.appSecret, ...opts });

  /** A fixture notification re-addressed to `from` (and a fresh wamid unless kept). */
  function fixtureFrom(name: string, from: string, keepId = false): Json {
    const body = whatsappFixture(name);
    const value = body.entry[0].changes[0].value;
    for (const c of value.contacts ?? []) c.wa_id = digits(from);
    for (const m of value.messages ?? []) {
      m.from = digits(from);
      if (!keepId) m.id = newWamid();
    }
    return body;
  }

  const expectOk = (res: WebhookAnswer) => expect(res.status, res.body).toBe(200);

  async function writeIn(from: string, body = 'Hallo'): Promise<Json> {
    expectOk(await notify(whatsappTextNotification(meta, from, body, { name: 'Anouk de Vries' })));
    const active = (await conversationsOf(api, from)).filter((c) => c.status === 'active');
    expect(active).toHaveLength(1);
    return active[0];
  }

  async function sentTo(to: string, n = 1): Promise<RecordedRequest> {
    await eventually(async () => fake.sends(digits(to)).length >= n);
    return fake.sends(digits(to))[n - 1]!;
  }

  beforeAll(async () => {
    fake = await startFakeWhatsApp();
    script = scriptWhatsApp(fake);
    roost = await startRoost();
    api = apiClient(roost.url, roost.liveKey!);
    wa = await createChannel(api, { name: 'whatsapp', platformId: 'whatsapp', settings: { phoneNumberId: PHONE_NUMBER_ID, fromNumber: DISPLAY_NUMBER, ...SECRETS, baseUrl: fake.url } });
  });

  afterAll(async () => {
    await roost?.stop();
    await fake?.close();
    if (roost) await removeDataDir(roost.dataDir);
  });

  describe('channel management', () => {
    it('creates a whatsapp channel whose tokens and secrets are write-only', async () => {
      expect(wa).toMatchObject({
        platformId: 'whatsapp',
        status: 'active',
        settings: { phoneNumberId: PHONE_NUMBER_ID, fromNumber: DISPLAY_NUMBER, baseUrl: fake.url },
        inboundUrl: `${roost.url}/inbound/${wa.id}`,
        createdDatetime: expect.stringMatching(ISO_DATETIME),
      });
      expect(Object.keys(wa.settings).sort()).toEqual(['baseUrl', 'fromNumber', 'phoneNumberId']);
      const texts = [JSON.stringify(wa), (await api('GET', `/v1/channels/${wa.id}`)).text, (await api('GET', '/v1/channels?limit=100')).text];
      for (const t of texts) {
        for (const [k, v] of Object.entries(SECRETS)) {
          expect(t).not.toContain(v);
          expect(t).not.toContain(`"${k}"`);
        }
      }
    });

    it('refuses a channel without its secrets', async () => {
      const res = await api('POST', '/v1/channels', { name: 'x', platformId: 'whatsapp', settings: { phoneNumberId: PHONE_NUMBER_ID, accessToken: 'a', appSecret: 'b' } });
      expectError(res, 422, 9, 'settings.verifyToken');
    });
  });

  describe('verification handshake', () => {
    it('echoes hub.challenge for the right verify token', async () => {
      const res = await whatsappHandshake(wa.inboundUrl, { mode: 'subscribe', verifyToken: SECRETS.verifyToken, challenge: '1158201444' });
      expect(res).toEqual({ status: 200, contentType: expect.stringMatching(/^text\/plain/), body: '1158201444' });
    });

    it('refuses a wrong verify token or mode and stores nothing', async () => {
      const conversations = await totalConversations(api);
      for (const params of [
        { mode: 'subscribe', verifyToken: 'guess', challenge: '1' },
        { mode: 'subscribe', challenge: '1' },
        { mode: 'unsubscribe', verifyToken: SECRETS.verifyToken, challenge: '1' },
      ]) {
        const res = await whatsappHandshake(wa.inboundUrl, params);
        expect(REFUSED, `${res.status} ${res.body}`).toContain(res.status);
        expect(res.body).not.toBe('1');
      }
      expect(await totalConversations(api)).toBe(conversations);
    });
  });

  describe('notifications', () => {
    it('stores a text message signed over the raw, unicode-escaped bytes', async () => {
      const from = phone();
      // The fixture's exact bytes with only the sender changed, still Meta-escaped.
      const raw = whatsappFixtureBytes('text-escaped-unicode.json').toString('utf8').replaceAll('4915112345678', digits(from));
      expect(raw).toContain('\\u00fc');
      const before = await countEvents(roost);
      expectOk(await notify(raw));
      expect(await countEvents(roost)).toBeGreaterThan(before);

      const convs = await conversationsOf(api, from);
      expect(convs).toHaveLength(1);
      expect(convs[0]).toMatchObject({
        contact: { msisdn: msisdnOf(from), displayName: 'Zoë Müller' },
        channels: [{ id: wa.id, platformId: 'whatsapp' }],
        lastUsedChannelId: wa.id,
        messages: { totalCount: 1 },
      });
      const msgs = await messagesOf(api, convs[0].id);
      expect(msgs.items[0]).toMatchObject({
        channelId: wa.id,
        platform: 'whatsapp',
        direction: 'received',
        status: 'received',
        from,
        to: DISPLAY_NUMBER,
        type: 'text',
        content: { text: 'Grüße aus Köln — café at 14:00? 👍 https://example.com/a/b' },
      });
      expect(await providerIdOf(roost, msgs.items[0].id)).toBe('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDNFQjBDNjE0NkE3QjE2OEY0NzJBAA==');
    });

    it('stores images, documents and locations', async () => {
      const from = phone();
      expectOk(await notify(fixtureFrom('image.json', from)));
      expectOk(await notify(fixtureFrom('media-kinds.json', from)));
      expectOk(await notify(fixtureFrom('location.json', from)));
      expectOk(await notify(fixtureFrom('replies.json', from)));
      const [conv] = await conversationsOf(api, from);
      const msgs = await messagesOf(api, conv.id);
      const contents = msgs.items.map((m: Json) => m.content).reverse();
      expect(contents).toEqual([
        { image: { url: `${fake.url}/1203948576102938`, caption: 'Zo ziet de lekkage eruit' } },
        { video: { url: `${fake.url}/2203948576102931`, caption: 'De kraan lekt nog steeds' } },
        { audio: { url: `${fake.url}/2203948576102932` } },
        { file: { url: `${fake.url}/2203948576102933`, caption: 'Factuur maart' } },
        { image: { url: `${fake.url}/2203948576102934` } },
        { location: { latitude: 52.3731339, longitude: 4.8924534 } },
        { text: 'Ja, verzetten' },
        { text: 'Vrijdag 10:00' },
        { text: 'Stop promoties' },
      ]);
      expect(fake.url).toMatch(new RegExp(`/${GRAPH_VERSION}$`));
    });

    it('refuses a missing or wrong signature, logs it and stores nothing', async () => {
      const from = phone();
      const payload = whatsappTextNotification(meta, from, 'unsigned café');
      const conversations = await totalConversations(api);
      const events = await countEvents(roost);
      const raw = metaJson(payload);
      for (const res of [
        await notify(payload, { signature: null }),
        await notify(payload, { appSecret: 'not-the-secret' }),
        await notify(payload, { signature: 'sha256=' }),
        // Signed over Meta's bytes (é as \u00e9), then re-serialised (é as UTF-8): same JSON, other bytes.
        await notify(JSON.stringify(JSON.parse(raw)), { signature: hubSignature(SECRETS.appSecret, raw) }),
      ]) {
        expect(REFUSED, `${res.status} ${res.body}`).toContain(res.status);
      }
      expect(await totalConversations(api)).toBe(conversations);
      expect(await countEvents(roost)).toBe(events);
      await eventually(async () => roost.output().includes('inbound webhook refused'));
      // The refused wamid was not remembered.
      expectOk(await notify(payload));
      expect(await conversationsOf(api, from)).toHaveLength(1);
    });

    it('stores a wamid delivered twice, or five times at once, as one message', async () => {
      const from = phone();
      const payload = whatsappTextNotification(meta, from, 'twice');
      expectOk(await notify(payload));
      expectOk(await notify(payload));
      const racing = whatsappTextNotification(meta, from, 'race');
      const answers = await Promise.all(Array.from({ length: 5 }, () => notify(racing)));
      for (const a of answers) expectOk(a);
      const [conv] = await conversationsOf(api, from);
      expect(conv.messages.totalCount).toBe(2);
      expect((await messagesOf(api, conv.id)).items.map((m: Json) => m.content.text).sort()).toEqual(['race', 'twice']);
    });

    it('takes every message of a batch for its own number and ignores other numbers', async () => {
      const [a, b, other] = [phone(), phone(), phone()];
      const body = whatsappFixture('batch.json');
      const ours = body.entry[0].changes[0].value;
      ours.contacts[0].wa_id = digits(a);
      ours.contacts[1].wa_id = digits(b);
      ours.messages[0].from = digits(a);
      ours.messages[1].from = digits(b);
      for (const m of ours.messages) m.id = newWamid();
      body.entry[2].changes[0].value.messages[0].from = digits(other);
      expectOk(await notify(body));
      expect((await conversationsOf(api, a))[0]).toMatchObject({ contact: { displayName: 'Anouk de Vries' }, messages: { totalCount: 1 } });
      expect((await conversationsOf(api, b))[0]).toMatchObject({ contact: { displayName: 'Ravi Sharma' }, messages: { totalCount: 1 } });
      expect(await conversationsOf(api, other)).toHaveLength(0);
    });

    it('acknowledges unsupported message types and statuses for unknown messages without storing anything', async () => {
      const from = phone();
      const conversations = await totalConversations(api);
      expectOk(await notify(fixtureFrom('unsupported.json', from)));
      expectOk(await notify(whatsappStatusNotification(meta, newWamid(), 'delivered', from)));
      expect(await totalConversations(api)).toBe(conversations);
    });

    it('answers a notification that is not JSON with 400', async () => {
      const res = await notify('{"object":"whatsapp_business_account","entry":');
      expect(res.status, res.body).toBe(400);
    });
  });

  describe('replies and statuses', () => {
    it('replies through the Cloud API and moves the status forward only', async () => {
      const to = phone();
      const conv = await writeIn(to, 'Kan ik mijn afspraak verzetten?');
      const reply = await api('POST', `/v1/conversations/${conv.id}/messages`, { type: 'text', content: { text: 'Natuurlijk, welke dag?' } });
      expect(reply.status, reply.text).toBe(201);
      const message = reply.json;
      expect(message).toMatchObject({ channelId: wa.id, platform: 'whatsapp', direction: 'sent', status: 'accepted', from: DISPLAY_NUMBER, to });

      const req = await sentTo(to);
      expect(req.method).toBe('POST');
      expect(req.path).toBe(`/${GRAPH_VERSION}/${PHONE_NUMBER_ID}/messages`);
      expect(req.headers.authorization).toBe(`Bearer ${SECRETS.accessToken}`);
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.body).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: digits(to),
        type: 'text',
        text: { body: 'Natuurlijk, welke dag?', preview_url: false },
        biz_opaque_callback_data: expect.stringMatching(new RegExp(`^roost:${message.id}:`)),
      });

      await eventually(async () => (await providerIdOf(roost, message.id)) === script.wamids(digits(to))[0]);
      const [wamid] = script.wamids(digits(to));
      const status = (s: string) => notify(whatsappStatusNotification(meta, wamid!, s, to));
      expectOk(await status('sent'));
      expect((await api('GET', `/v1/messages/${message.id}`)).json.status).toBe('sent');
      expectOk(await status('delivered'));
      expect((await api('GET', `/v1/messages/${message.id}`)).json.status).toBe('delivered');
      expectOk(await status('sent')); // late and out of order
      expect((await api('GET', `/v1/messages/${message.id}`)).json.status).toBe('delivered');
      expectOk(await status('read'));
      const read = await api('GET', `/v1/messages/${message.id}`);
      expect(read.json.status).toBe('read');
      expect(read.json.error).toBeUndefined();
      expect(await updatedStatusesOf(roost, conv.id, message.id)).toEqual(['sent', 'delivered', 'read']);
      expect(fake.sends(digits(to))).toHaveLength(1);
    });

    it('marks a message failed with the error of a failed status', async () => {
      const to = phone();
      const res = await api('POST', '/v1/send', { from: wa.id, to, type: 'image', content: { image: { url: 'https://cdn.example.com/x.jpg', caption: 'Kijk' } } });
      expect(res.status, res.text).toBe(202);
      expect((await sentTo(to)).body).toMatchObject({ type: 'image', image: { link: 'https://cdn.example.com/x.jpg', caption: 'Kijk' } });
      await eventually(async () => (await providerIdOf(roost, res.json.id)) !== null);
      const failed = whatsappFixture('status-failed.json');
      failed.entry[0].changes[0].value.statuses[0].id = script.wamids(digits(to))[0];
      failed.entry[0].changes[0].value.statuses[0].recipient_id = digits(to);
      expectOk(await notify(failed));
      const m = await waitForStatus(api, res.json.id, 'failed');
      expect(m.error).toEqual({ code: 131026, description: 'Message undeliverable: Message Undeliverable.' });
    });

    it('keeps a status that arrives before the send answer (found through biz_opaque_callback_data)', async () => {
      const to = phone();
      let early: WebhookAnswer | undefined;
      script.queue(digits(to), async (req) => {
        const json = sendResponse(req.body);
        const wamid = (json.messages as Array<{ id: string }>)[0]!.id;
        const opaque = (req.body as Record<string, string>).biz_opaque_callback_data;
        early = await notify(whatsappStatusNotification(meta, wamid, 'delivered', to, { biz_opaque_callback_data: opaque }));
        return { status: 200, json };
      });
      const res = await api('POST', '/v1/send', { from: wa.id, to, type: 'text', content: { text: 'fast status' } });
      expect(res.status, res.text).toBe(202);
      const id = res.json.id as string;
      await sentTo(to);
      await eventually(() => sendJobDone(roost, id));
      expectOk(early!);
      const m = await api('GET', `/v1/messages/${id}`);
      expect(m.json.status).toBe('delivered');
      expect(await updatedStatusesOf(roost, m.json.conversationId, id)).toEqual(['delivered']);
    });

    it('marks a message failed with the Graph error when the API refuses it, without retrying', async () => {
      const to = phone();
      script.queue(digits(to), { status: 400, json: whatsappFixture('error-131047.json') });
      const res = await api('POST', '/v1/send', { from: wa.id, to, type: 'text', content: { text: 'too late' } });
      expect(res.status, res.text).toBe(202);
      const failed = await waitForStatus(api, res.json.id, 'failed');
      expect(failed.error).toEqual({
        code: 131047,
        description: '(#131047) Re-engagement message: Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
      });
      await sleep(300);
      expect(fake.sends(digits(to))).toHaveLength(1);
    });

    it('retries a throttled send and then records the wamid', async () => {
      const to = phone();
      script.queue(digits(to), { status: 400, json: whatsappFixture('error-130429.json') });
      const res = await api('POST', '/v1/send', { from: wa.id, to, type: 'text', content: { text: 'after the throttle' } });
      expect(res.status, res.text).toBe(202);
      await sentTo(to, 1);
      await sleep(100);
      expect((await api('GET', `/v1/messages/${res.json.id}`)).json.status).toBe('accepted');
      await sentTo(to, 2);
      await eventually(async () => (await providerIdOf(roost, res.json.id)) === script.wamids(digits(to))[0]);
      const m = await api('GET', `/v1/messages/${res.json.id}`);
      expect(m.json.status).toBe('accepted');
      expect(m.json.error).toBeUndefined();
    });
  });
});

describe('one person over Twilio SMS, WhatsApp and Sendblue (end to end)', () => {
  const TWILIO = { accountSid: 'AC7d1e3c0f5b9a4e2d8c6b1a0f9e8d7c6b', authToken: 'twilio-e2e-auth-token-0002', fromNumber: '+3197010259999' };
  let roost: RoostProcess;
  let api: Api;
  let twilioFake: FakeTwilio;
  let waFake: FakeWhatsApp;
  let sbFake: FakeSendblue;
  let sms: ChannelView;
  let wa: ChannelView;
  let sb: ChannelView;
  const phone = phoneFactory();

  beforeAll(async () => {
    [twilioFake, waFake, sbFake] = await Promise.all([startFakeTwilio(), startFakeWhatsApp(), startFakeSendblue()]);
    roost = await startRoost();
    api = apiClient(roost.url, roost.liveKey!);
    sms = await createChannel(api, { name: 'sms', platformId: 'twilio', settings: { ...TWILIO, baseUrl: twilioFake.url } });
    wa = await createChannel(api, { name: 'whatsapp', platformId: 'whatsapp', settings: { phoneNumberId: PHONE_NUMBER_ID, ...SECRETS, baseUrl: waFake.url } });
    sb = await createSendblueChannel(api, sbFake, { name: 'imessage' });
  });

  afterAll(async () => {
    await roost?.stop();
    await Promise.all([twilioFake?.close(), waFake?.close(), sbFake?.close()]);
    if (roost) await removeDataDir(roost.dataDir);
  });

  const viaSms = async (from: string, body: string) => {
    const sid = newSid();
    const fields = { ...twilioFormFixture('sms-inbound.form'), MessageSid: sid, SmsMessageSid: sid, SmsSid: sid, From: from, To: TWILIO.fromNumber, Body: body };
    const res = await postTwilioWebhook(sms.inboundUrl, fields, { authToken: TWILIO.authToken });
    expect(res.status, res.body).toBe(200);
  };
  const viaWhatsApp = async (from: string, body: string) => {
    const res = await postWhatsAppNotification(wa.inboundUrl, whatsappTextNotification({ phoneNumberId: PHONE_NUMBER_ID }, from, body), { appSecret: SECRETS.appSecret });
    expect(res.status, res.body).toBe(200);
  };
  const viaSendblue = async (from: string, content: string) => {
    const res = await postInbound(sb.inboundUrl, sendblueInboundPayload({ number: from, from_number: from, content }), { 'sb-signing-secret': 'sb-signing-secret-0001' });
    expect(res.status, res.text).toBe(200);
  };
  const reply = async (conversationId: string, text: string) => {
    const res = await api('POST', `/v1/conversations/${conversationId}/messages`, { type: 'text', content: { text } });
    expect(res.status, res.text).toBe(201);
    return res.json;
  };

  it('is one contact and one conversation listing all three channels; replies follow the last inbound channel', async () => {
    const from = phone();
    await viaSms(from, 'SMS first');
    await viaWhatsApp(from, 'then WhatsApp');
    await viaSendblue(from, 'then iMessage');

    const convs = await conversationsOf(api, from);
    expect(convs).toHaveLength(1);
    const conv = convs[0];
    expect(conv.contact.msisdn).toBe(msisdnOf(from));
    expect(conv.channels.map((c: Json) => [c.id, c.platformId])).toEqual([[sms.id, 'twilio'], [wa.id, 'whatsapp'], [sb.id, 'sendblue']]);
    expect(conv.messages.totalCount).toBe(3);
    const contacts = new Set((await messagesOf(api, conv.id)).items.map((m: Json) => m.from));
    expect(contacts).toEqual(new Set([from]));

    expect(await reply(conv.id, 'answer on iMessage')).toMatchObject({ channelId: sb.id, to: from });
    await eventually(async () => sbFake.requests.some((r) => (r.body as Record<string, unknown>)?.number === from));

    await viaWhatsApp(from, 'back on WhatsApp');
    expect(await reply(conv.id, 'answer on WhatsApp')).toMatchObject({ channelId: wa.id, to: from });
    await eventually(async () => waFake.sends(digits(from)).length === 1);
    expect(waFake.sends(digits(from))[0]!.body).toMatchObject({ to: digits(from), text: { body: 'answer on WhatsApp' } });

    await viaSms(from, 'and SMS again');
    expect(await reply(conv.id, 'answer by SMS')).toMatchObject({ channelId: sms.id, from: TWILIO.fromNumber, to: from });
    await eventually(async () => twilioFake.sends(from).length === 1);
    expect(twilioFake.sends(from)[0]!.form).toMatchObject({ To: from, From: TWILIO.fromNumber, Body: 'answer by SMS' });

    // Every reply went out exactly once, on the channel chosen.
    await sleep(200);
    expect(twilioFake.sends(from)).toHaveLength(1);
    expect(waFake.sends(digits(from))).toHaveLength(1);
    expect(sbFake.requests.filter((r) => (r.body as Record<string, unknown>)?.number === from)).toHaveLength(1);
    expect((await conversationsOf(api, from))[0].messages.totalCount).toBe(8); // 5 in, 3 out
  });
});
