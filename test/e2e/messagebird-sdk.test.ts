/**
 * The official `messagebird` Node SDK (4.0.1, CommonJS, callback API) against the real
 * `roost serve` process. The SDK's host is fixed (conversations.messagebird.com over
 * HTTPS), so its `https.request` calls are redirected to Roost over plain HTTP
 * (test/helpers/sdk-redirect.ts, reference doc §2.2). Nothing here talks to Roost through
 * anything but the SDK, except creating the channel (the SDK has no channels API) and
 * posting sandbox inbound traffic.
 */
import messagebird from 'messagebird';
import type {
  Channel,
  ConversationParameter,
  MessageBird,
  ReplyConversationParameters,
  SendResponse,
  StartConversationResponse,
  Webhooks,
} from 'messagebird';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, eventually, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';
import { redirectMessageBirdSdk } from '../helpers/sdk-redirect.js';
import type { SdkRedirect } from '../helpers/sdk-redirect.js';

// ---------- shapes the SDK declares (or, where its types say `unknown`, the documented ones) ----------

/** `conversations.read/list/update` are typed `CallbackFn` (unknown); they return the start shape. */
type Conversation = StartConversationResponse;

interface ListEnvelope<T> {
  offset: number;
  limit: number;
  count: number;
  totalCount: number;
  items: T[];
}

interface ConversationMessage {
  id: string;
  conversationId: string;
  channelId: string;
  platform: string;
  to: string;
  from: string;
  direction: 'sent' | 'received';
  status: string;
  type: string;
  content: { text?: string } & Record<string, unknown>;
  createdDatetime: string;
  updatedDatetime: string;
}

interface Webhook {
  id: string;
  channelId: string | null;
  url: string;
  events: string[];
  status: 'enabled' | 'disabled';
  createdDatetime: string;
  updatedDatetime: string | null;
}

/** What the SDK's httpRequest attaches to an API error. */
interface SdkError extends Error {
  statusCode?: number;
  errors?: { code: number; description: string; parameter: string | null }[];
}

type Callback = (err: Error | null, res: unknown) => void;

/** Promisifies one SDK call. */
function sdk<T = unknown>(invoke: (cb: Callback) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    invoke((err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

/** Runs one SDK call that must fail, and returns the SDK's error. */
async function sdkError(invoke: (cb: Callback) => void): Promise<SdkError> {
  try {
    const res = await sdk(invoke);
    throw new Error(`expected the SDK to report an error, got ${JSON.stringify(res)}`);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('expected the SDK')) throw err;
    return err as SdkError;
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const ID = /^[0-9a-f]{32}$/;
const USER_AGENT = /^MessageBird\/ApiClient\/4\.0\.1 Node\.js\/\d+\.\d+\.\d+$/;

const INBOUND_MSISDN = '+31612345678';
const STARTED_MSISDN = '+31687654321';

function expectConversationShape(c: Conversation, channelId: string): void {
  expect(c).toMatchObject({
    id: expect.stringMatching(ID),
    contactId: expect.stringMatching(ID),
    contact: { id: c.contactId, msisdn: expect.any(Number) },
    status: expect.stringMatching(/^(active|archived)$/),
    createdDatetime: expect.stringMatching(RFC3339),
    updatedDatetime: expect.stringMatching(RFC3339),
    lastUsedChannelId: channelId,
    messages: { totalCount: expect.any(Number), href: expect.stringMatching(new RegExp(`/v1/conversations/${c.id}/messages$`)) },
  });
  expect('lastReceivedDatetime' in c).toBe(true);
  expect(Array.isArray(c.channels)).toBe(true);
  const channel = c.channels.find((ch: Channel) => ch.id === channelId);
  expect(channel).toMatchObject({
    id: channelId,
    name: 'sdk',
    platformId: 'sandbox',
    status: 'active',
    createdDatetime: expect.stringMatching(RFC3339),
  });
}

function expectMessageShape(m: ConversationMessage): void {
  expect(m).toMatchObject({
    id: expect.stringMatching(ID),
    conversationId: expect.stringMatching(ID),
    channelId: expect.stringMatching(ID),
    platform: 'sandbox',
    to: expect.any(String),
    from: expect.any(String),
    direction: expect.stringMatching(/^(sent|received)$/),
    status: expect.any(String),
    type: 'text',
    content: { text: expect.any(String) },
    createdDatetime: expect.stringMatching(RFC3339),
    updatedDatetime: expect.stringMatching(RFC3339),
  });
}

describe('official messagebird SDK 4.0.1 against roost serve', () => {
  let roost: RoostProcess;
  let redirect: SdkRedirect;
  let mb: MessageBird;
  let key: string;
  let channelId: string;
  let inboundConversation: Conversation;
  let replyMessage: ConversationMessage;

  beforeAll(async () => {
    roost = await startRoost();
    if (!roost.liveKey) throw new Error(`roost printed no live key:\n${roost.output()}`);
    key = roost.liveKey;
    redirect = redirectMessageBirdSdk(roost.port);
    mb = messagebird.initClient(key);

    const api = apiClient(roost.url, key);
    const created = await api('POST', '/v1/channels', { platformId: 'sandbox', name: 'sdk' });
    if (created.status !== 201) throw new Error(`channel create failed: ${created.status} ${created.text}`);
    channelId = created.json.id as string;

    const inbound = await fetch(`${roost.url}/inbound/${channelId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: INBOUND_MSISDN, text: 'hi from the sandbox' }),
    });
    if (inbound.status >= 300) throw new Error(`sandbox inbound failed: ${inbound.status} ${await inbound.text()}`);
  });

  afterAll(async () => {
    redirect?.restore();
    if (roost) {
      await roost.stop();
      await removeDataDir(roost.dataDir);
    }
  });

  it('conversations.list(limit, offset) returns the inbound conversation in a list envelope', async () => {
    const list = await eventually(async () => {
      const page = await sdk<ListEnvelope<Conversation>>((cb) => mb.conversations.list(10, 0, cb));
      return page.items.length > 0 ? page : undefined;
    });
    expect(list).toMatchObject({ offset: 0, limit: 10, count: 1, totalCount: 1 });
    expect(list.items).toHaveLength(1);
    const c = list.items[0]!;
    expectConversationShape(c, channelId);
    expect(c.status).toBe('active');
    expect(c.contact.msisdn).toBe(31612345678);
    expect(c.lastReceivedDatetime).toMatch(RFC3339);
    expect(c.messages.totalCount).toBe(1);
    inboundConversation = c;

    // Without limit/offset (callback as the only argument; the SDK types omit this form)
    // the SDK sends a bare GET /v1/conversations and Roost applies limit=10, offset=0.
    const list1 = mb.conversations.list as unknown as (cb: Callback) => void;
    const defaults = await sdk<ListEnvelope<Conversation>>((cb) => list1(cb));
    expect(defaults).toMatchObject({ offset: 0, limit: 10, count: 1, totalCount: 1 });
  });

  it('conversations.read(id) returns the full conversation', async () => {
    const c = await sdk<Conversation>((cb) => mb.conversations.read(inboundConversation.id, cb));
    expectConversationShape(c, channelId);
    expect(c.id).toBe(inboundConversation.id);
    expect(c.contactId).toBe(inboundConversation.contactId);
    expect(c.contact.msisdn).toBe(31612345678);
    expect(c.status).toBe('active');
  });

  it('conversations.update(id, {status}) archives and re-activates', async () => {
    const archived = await sdk<Conversation>((cb) => mb.conversations.update(inboundConversation.id, { status: 'archived' }, cb));
    expect(archived).toMatchObject({ id: inboundConversation.id, status: 'archived', updatedDatetime: expect.stringMatching(RFC3339) });
    expect((await sdk<Conversation>((cb) => mb.conversations.read(inboundConversation.id, cb))).status).toBe('archived');

    const active = await sdk<Conversation>((cb) => mb.conversations.update(inboundConversation.id, { status: 'active' }, cb));
    expect(active).toMatchObject({ id: inboundConversation.id, status: 'active' });
    expect((await sdk<Conversation>((cb) => mb.conversations.read(inboundConversation.id, cb))).status).toBe('active');
  });

  it('conversations.reply(id, {type, content}) returns the new outbound message', async () => {
    // The SDK types declare ReplyConversationParameters as {id} only; the API takes {type, content}.
    const params = { type: 'text', content: { text: 'hello back' } } as unknown as ReplyConversationParameters;
    const m = await sdk<ConversationMessage>((cb) => mb.conversations.reply(inboundConversation.id, params, cb));
    expectMessageShape(m);
    expect(m).toMatchObject({
      conversationId: inboundConversation.id,
      channelId,
      direction: 'sent',
      content: { text: 'hello back' },
    });
    expect(m.to).toContain('31612345678');
    replyMessage = m;
  });

  it('conversations.listMessages(id, limit, offset) lists both messages', async () => {
    const page = await sdk<ListEnvelope<ConversationMessage>>((cb) =>
      mb.conversations.listMessages(inboundConversation.id, 10, 0, cb),
    );
    expect(page).toMatchObject({ offset: 0, limit: 10, count: 2, totalCount: 2 });
    for (const m of page.items) expectMessageShape(m);
    const received = page.items.find((m) => m.direction === 'received');
    expect(received).toMatchObject({
      conversationId: inboundConversation.id,
      channelId,
      status: 'received',
      content: { text: 'hi from the sandbox' },
    });
    expect(received!.from).toContain('31612345678');
    expect(page.items.map((m) => m.id)).toContain(replyMessage.id);

    const second = await sdk<ListEnvelope<ConversationMessage>>((cb) =>
      mb.conversations.listMessages(inboundConversation.id, 1, 1, cb),
    );
    expect(second).toMatchObject({ offset: 1, limit: 1, count: 1, totalCount: 2 });
  });

  it('conversations.readMessage(id) reads the reply and sees it progress', async () => {
    const m = await sdk<ConversationMessage>((cb) => mb.conversations.readMessage(replyMessage.id, cb));
    expectMessageShape(m);
    expect(m).toMatchObject({ id: replyMessage.id, conversationId: inboundConversation.id, direction: 'sent' });
    // The sandbox moves an accepted message through sent to delivered by itself.
    const delivered = await eventually(async () => {
      const now = await sdk<ConversationMessage>((cb) => mb.conversations.readMessage(replyMessage.id, cb));
      return now.status === 'delivered' ? now : undefined;
    });
    expect(delivered.updatedDatetime).toMatch(RFC3339);
  });

  it('conversations.start({channelId, to, type, content}) opens a conversation', async () => {
    const c = await sdk<StartConversationResponse>((cb) =>
      mb.conversations.start({ channelId, to: STARTED_MSISDN, type: 'text', content: { text: 'first words' } }, cb),
    );
    expectConversationShape(c, channelId);
    expect(c.id).not.toBe(inboundConversation.id);
    expect(c.status).toBe('active');
    expect(c.contact.msisdn).toBe(31687654321);
    expect(c.messages.totalCount).toBe(1);

    const page = await sdk<ListEnvelope<ConversationMessage>>((cb) => mb.conversations.listMessages(c.id, 10, 0, cb));
    expect(page.totalCount).toBe(1);
    expect(page.items[0]).toMatchObject({ direction: 'sent', channelId, content: { text: 'first words' } });

    const all = await sdk<ListEnvelope<Conversation>>((cb) => mb.conversations.list(10, 0, cb));
    expect(all.totalCount).toBe(2);
    expect(all.items.map((x) => x.id).sort()).toEqual([c.id, inboundConversation.id].sort());
  });

  it('conversations.send({to, from: channelId, type, content}) resumes the active conversation', async () => {
    // The SDK types make reportUrl mandatory; the API does not.
    const params = { to: INBOUND_MSISDN, from: channelId, type: 'text', content: { text: 'sent via /send' } } as ConversationParameter;
    const res = await sdk<SendResponse & { id: string; status: string }>((cb) => mb.conversations.send(params, cb));
    expect(res.message).toMatchObject({ id: expect.stringMatching(ID), status: expect.any(String) });
    expect(res.id).toBe(res.message.id);
    expect(res.status).toBe(res.message.status);

    const m = await sdk<ConversationMessage>((cb) => mb.conversations.readMessage(res.message.id, cb));
    expectMessageShape(m);
    expect(m).toMatchObject({
      id: res.message.id,
      conversationId: inboundConversation.id,
      channelId,
      direction: 'sent',
      content: { text: 'sent via /send' },
    });
    const c = await sdk<Conversation>((cb) => mb.conversations.read(inboundConversation.id, cb));
    expect(c.messages.totalCount).toBe(3);
  });

  it('conversations.webhooks: create, read, update, list, delete', async () => {
    const wh = mb.conversations.webhooks;
    const created = await sdk<Webhook>((cb) =>
      wh.create({ events: ['message.created', 'message.updated'], channelId, url: 'https://example.com/hook' }, cb),
    );
    expect(created).toMatchObject({
      id: expect.stringMatching(ID),
      channelId,
      url: 'https://example.com/hook',
      events: ['message.created', 'message.updated'],
      status: 'enabled',
      createdDatetime: expect.stringMatching(RFC3339),
    });

    // A validation error reaches the SDK as an api error naming the parameter.
    const invalid = await sdkError((cb) =>
      wh.create({ events: ['message.nope'], channelId, url: 'https://example.com/hook' }, cb),
    );
    expect(invalid.message).toMatch(/^api error\(s\): .*\(code: 10, parameter: events\)$/);
    expect(invalid.statusCode).toBe(422);
    expect(invalid.errors?.[0]).toMatchObject({ code: 10, parameter: 'events' });

    const read = await sdk<Webhook>((cb) => wh.read(created.id, cb));
    expect(read).toMatchObject({ id: created.id, channelId, url: 'https://example.com/hook', status: 'enabled' });

    const update: Webhooks.UpdateParameters = {
      events: ['conversation.updated'],
      url: 'https://example.com/mynewwebhookurl',
      status: 'disabled',
    };
    const updated = await sdk<Webhook>((cb) => wh.update(created.id, update, cb));
    expect(updated).toMatchObject({ id: created.id, channelId, ...update, updatedDatetime: expect.stringMatching(RFC3339) });
    expect(await sdk<Webhook>((cb) => wh.read(created.id, cb))).toMatchObject(update);

    const list = await sdk<ListEnvelope<Webhook>>((cb) => wh.list(10, 0, cb));
    expect(list).toMatchObject({ offset: 0, limit: 10, count: 1, totalCount: 1 });
    expect(list.items.map((w) => w.id)).toContain(created.id);
    expect(list.items.find((w) => w.id === created.id)).toMatchObject(update);

    // 204: the SDK resolves `true` without parsing a body.
    expect(await sdk((cb) => wh.delete(created.id, cb))).toBe(true);

    const err = await sdkError((cb) => wh.read(created.id, cb));
    expect(err.message).toMatch(/^api error\(s\): /);
    expect(err.statusCode).toBe(404);
    expect(err.errors?.[0]?.code).toBe(20);
    expect((await sdk<ListEnvelope<Webhook>>((cb) => wh.list(10, 0, cb))).totalCount).toBe(0);
  });

  it('a wrong access key is an SDK api error with code 2 and status 401', async () => {
    const bad = messagebird.initClient('wrong');
    const err = await sdkError((cb) => bad.conversations.list(10, 0, cb));
    expect(err.message).toMatch(/^api error\(s\): /);
    expect(err.statusCode).toBe(401);
    expect(err.errors).toHaveLength(1);
    const [first] = err.errors!;
    expect(first!.code).toBe(2);
    expect(typeof first!.description).toBe('string');
    expect(first!.description.length).toBeGreaterThan(0);
    expect(err.message).toContain(`${first!.description} (code: 2`);
  });

  it('an unknown conversation id is an SDK api error with code 20', async () => {
    for (const id of ['0190b1c8e5a87a3c9f6e2d4b1a0c9e7f', 'does-not-exist']) {
      const err = await sdkError((cb) => mb.conversations.read(id, cb));
      expect(err.message).toMatch(/^api error\(s\): .*\(code: 20/);
      expect(err.statusCode).toBe(404);
      expect(err.errors?.[0]?.code).toBe(20);
    }
    const msgErr = await sdkError((cb) => mb.conversations.readMessage('0190b1c8e5a87a3c9f6e2d4b1a0c9e7f', cb));
    expect(msgErr.statusCode).toBe(404);
    expect(msgErr.errors?.[0]?.code).toBe(20);
  });

  it('Roost saw exactly the requests the SDK builds', () => {
    const seen = redirect.requests;
    expect(seen.length).toBeGreaterThan(0);
    for (const r of seen) {
      expect(r.originalHost).toBe('conversations.messagebird.com');
      expect(r.headers['user-agent']).toMatch(USER_AGENT);
      expect(r.headers['user-agent']).toBe(`MessageBird/ApiClient/4.0.1 Node.js/${process.versions.node}`);
      expect(r.headers.accept).toBeUndefined();
      expect(r.headers.authorization).toMatch(/^AccessKey /);
    }
    const keyed = seen.filter((r) => r.headers.authorization === `AccessKey ${key}`);
    const line = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
    const lines = keyed.map(line);
    expect(lines).toContain('GET /v1/conversations?limit=10&offset=0');
    expect(lines).toContain('GET /v1/conversations');
    expect(lines).toContain(`GET /v1/conversations/${inboundConversation.id}`);
    expect(lines).toContain(`PATCH /v1/conversations/${inboundConversation.id}`);
    expect(lines).toContain(`POST /v1/conversations/${inboundConversation.id}/messages`);
    expect(lines).toContain(`GET /v1/conversations/${inboundConversation.id}/messages?limit=10&offset=0`);
    expect(lines).toContain(`GET /v1/messages/${replyMessage.id}`);
    expect(lines).toContain('POST /v1/conversations/start');
    expect(lines).toContain('POST /v1/send');
    expect(lines).toContain('POST /v1/webhooks');
    expect(lines).toContain('GET /v1/webhooks?limit=10&offset=0');
    expect(lines.some((l) => /^DELETE \/v1\/webhooks\/[0-9a-f]{32}$/.test(l))).toBe(true);

    // The bad-key call went out with the wrong key and was refused (see the test above).
    expect(seen.filter((r) => r.headers.authorization === 'AccessKey wrong').map(line)).toEqual([
      'GET /v1/conversations?limit=10&offset=0',
    ]);

    // Bodies: JSON with Content-Type and Content-Length, exactly as the SDK serialises them.
    const replyReq = keyed.find((r) => r.method === 'POST' && r.path.endsWith('/messages'))!;
    expect(replyReq.headers['content-type']).toBe('application/json');
    expect(replyReq.headers['content-length']).toBe(String(Buffer.byteLength(replyReq.body)));
    expect(JSON.parse(replyReq.body)).toEqual({ type: 'text', content: { text: 'hello back' } });
    const patchReq = keyed.find((r) => r.method === 'PATCH')!;
    expect(JSON.parse(patchReq.body)).toEqual({ status: 'archived' });
    // GET and DELETE carry no body and no Content-Type.
    for (const r of keyed.filter((x) => x.method === 'GET' || x.method === 'DELETE')) {
      expect(r.body).toBe('');
      expect(r.headers['content-type']).toBeUndefined();
    }
  });
});
