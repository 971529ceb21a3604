import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundMessage } from '../../../src/channels/connector.js';
import type { MessageContent, MessageType } from '../../../src/domain/content.js';
import type { ConversationId } from '../../../src/domain/ids.js';
import type { Channel, Message, OutboxEvent, Workspace } from '../../../src/domain/records.js';
import { WEBHOOK_EVENTS } from '../../../src/domain/records.js';
import { systemClock } from '../../../src/domain/time.js';
import { applyStatus } from '../../../src/ingest/apply-status.js';
import { ingestMessage } from '../../../src/ingest/ingest-message.js';
import { updateConversationStatus } from '../../../src/management/conversations.js';
import { replyToConversation, startConversation } from '../../../src/send/outbound.js';
import type { OutboundDeps } from '../../../src/send/outbound.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import * as f from '../../store/factories.js';

/**
 * The webhook bodies Roost actually emits, checked against MessageBird's published AsyncAPI
 * document (seed 002, copied unchanged to test/fixtures). The events are produced by the
 * real pipeline (ingest, outbound, status updates, archive) on a real SQLite store, then read
 * back from the outbox, so a field that drifts from the public contract fails here.
 *
 * Exactly one change is made to the document: `received` joins the message status enum.
 * MessageBird's own example payload (seed 000) and its SDKs give inbound messages that
 * status, which the AsyncAPI enum omits.
 */

// ajv-formats is CommonJS: under NodeNext its default import is `module.exports`, whose `default` is the plugin.
const addFormats = addFormatsModule.default;

type Json = Record<string, unknown>;
interface PropertySchema { type?: string; enum?: string[]; format?: string; properties?: Record<string, PropertySchema> }
interface ObjectSchema { type: 'object'; properties: Record<string, PropertySchema> }

const FIXTURE = resolve(import.meta.dirname, '../../fixtures/messagebird-conversations-asyncapi.yaml');
const doc = parseYaml(readFileSync(FIXTURE, 'utf8')) as {
  asyncapi: string;
  components: { schemas: Record<string, ObjectSchema>; messages: Record<string, { name: string; payload: { $ref: string } }> };
};

/** A deep copy of a component schema, so the document itself stays as published. */
const schemaOf = (name: string): ObjectSchema => structuredClone(doc.components.schemas[name]!);

function withReceivedStatus(schema: ObjectSchema): ObjectSchema {
  const status = schema.properties.message!.properties!.status!;
  status.enum = [...status.enum!, 'received'];
  return schema;
}

function compile(schema: ObjectSchema): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

/** The message.created example of MessageBird's "Receiving messages" guide (seed 000), verbatim. */
const SEED_000_EXAMPLE = {
  conversation: {
    contactId: '73afe0acee2127fd3e7d9a7dc622826e',
    createdDatetime: '2019-02-28T17:39:52Z',
    id: 'f1e812e9afd6a875d813d51f45823edd',
    lastReceivedDatetime: '2019-03-01T10:40:02.880881081Z',
    status: 'active',
    updatedDatetime: '2019-02-28T18:33:24.787229989Z',
  },
  message: {
    channelId: '2ceefea7c1b8c79673215c42c1a6b916',
    content: { text: 'Testing webhook functionality.' },
    conversationId: 'f1e812e9afd6a875d813d51f45823edd',
    createdDatetime: '2019-03-01T10:40:02.880881081Z',
    direction: 'received',
    id: '93a1f7ba935c4ee298cb5ef952052ea7',
    status: 'received',
    type: 'text',
    updatedDatetime: '2019-03-01T10:40:02.88845145Z',
  },
  type: 'message.created',
};

const jsonType = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;

function typeMatches(schemaType: string, v: unknown): boolean {
  const t = jsonType(v);
  return t === schemaType || (schemaType === 'number' && t === 'integer');
}

// ---- the document itself ----------------------------------------------------------------

describe('the AsyncAPI fixture', () => {
  it('is the MessageBird Conversations events document', () => {
    expect(doc.asyncapi).toBe('2.6.0');
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['MessageEvent', 'ConversationEvent', 'VoiceCallEventPayload', 'SmsStatusReportPayload']),
    );
  });

  it('maps the four event types Roost emits to MessageEvent and ConversationEvent', () => {
    const byName = Object.fromEntries(Object.values(doc.components.messages).map((m) => [m.name, m.payload.$ref]));
    for (const type of WEBHOOK_EVENTS) {
      expect(byName[type]).toBe(type.startsWith('message.') ? '#/components/schemas/MessageEvent' : '#/components/schemas/ConversationEvent');
    }
  });

  it('compiles MessageEvent and ConversationEvent with ajv in strict mode', () => {
    expect(() => compile(schemaOf('MessageEvent'))).not.toThrow();
    expect(() => compile(schemaOf('ConversationEvent'))).not.toThrow();
  });

  it('lacks `received` in the message status enum (the one change this test makes)', () => {
    expect(doc.components.schemas.MessageEvent!.properties.message!.properties!.status!.enum).not.toContain('received');
    expect(withReceivedStatus(schemaOf('MessageEvent')).properties.message!.properties!.status!.enum).toContain('received');
    // The copy is deep: the document is unchanged.
    expect(doc.components.schemas.MessageEvent!.properties.message!.properties!.status!.enum).not.toContain('received');
  });
});

describe("seed 000's example payload (sanity of the schemas)", () => {
  it('validates against MessageEvent once `received` is a status', () => {
    const validate = compile(withReceivedStatus(schemaOf('MessageEvent')));
    expect(validate(SEED_000_EXAMPLE), JSON.stringify(validate.errors)).toBe(true);
  });

  it('fails the unmodified MessageEvent only on message.status', () => {
    const validate = compile(schemaOf('MessageEvent'));
    expect(validate(SEED_000_EXAMPLE)).toBe(false);
    expect(validate.errors!.map((e) => [e.instancePath, e.keyword])).toEqual([['/message/status', 'enum']]);
  });

  it('is rejected when a field has the wrong type or format (the validator bites)', () => {
    const validate = compile(withReceivedStatus(schemaOf('MessageEvent')));
    const broken = structuredClone(SEED_000_EXAMPLE) as Json & { message: Json; conversation: Json };
    broken.message.createdDatetime = 'yesterday';
    broken.conversation.status = 'closed';
    broken.message.content = 'text';
    expect(validate(broken)).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath).sort()).toEqual(['/conversation/status', '/message/content', '/message/createdDatetime']);
    expect(compile(schemaOf('ConversationEvent'))({ type: 'message.created', conversation: SEED_000_EXAMPLE.conversation })).toBe(false);
  });
});

// ---- what Roost emits ---------------------------------------------------------------------

describe('webhook bodies Roost emits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roost-asyncapi-'));
  let store: SqliteStore;
  let ws: Workspace;
  let channel: Channel;
  let events: OutboxEvent[] = [];
  let deliveriesTotal = 0;
  const messageSchema = withReceivedStatus(schemaOf('MessageEvent'));
  const conversationSchema = schemaOf('ConversationEvent');
  const validateMessage = compile(messageSchema);
  const validateConversation = compile(conversationSchema);
  const now = () => systemClock.now();

  beforeAll(async () => {
    store = new SqliteStore(join(dir, 'roost.db'));
    ws = f.workspace();
    channel = f.channel(ws.id, { platformId: 'sandbox', settings: { fromNumber: '+14155550100' }, secrets: {} });
    const hook = f.webhook(ws.id, { events: [...WEBHOOK_EVENTS], url: 'https://customer.example/hook' });
    await store.transaction(async (tx) => {
      await tx.insertWorkspace(ws);
      await tx.insertChannel(channel);
      await tx.insertWebhook(hook);
    });

    // Inbound: a new contact writes text, then an image, then a location (one conversation).
    const inbound = (id: string, type: MessageType, content: MessageContent): InboundMessage => ({
      kind: 'message', providerMessageId: id, contact: { key: 'phonenumber', value: '+31612345678' }, contactName: 'Ann',
      from: '+31612345678', to: '+14155550100', type, content,
    });
    const items = [
      inbound('in-1', 'text', { text: 'Hi there' }),
      inbound('in-2', 'image', { image: { url: 'https://cdn.example/cat.jpg', caption: 'a cat' } }),
      inbound('in-3', 'location', { location: { latitude: 52.3676, longitude: 4.9041 } }),
    ];
    let inboundConversation: ConversationId | undefined;
    for (const item of items) {
      const r = await store.transaction((tx) => ingestMessage(tx, channel, item, now()));
      expect(r.kind).toBe('stored');
      if (r.kind === 'stored') inboundConversation = r.conversation.id;
    }

    // Outbound: start a conversation with someone new, reply into the inbound one.
    const deps: OutboundDeps = { store, clock: systemClock, notifySendWorker() {} };
    const caller = { workspace: ws, mode: 'live' as const };
    const started = await startConversation(deps, caller, {
      channelId: channel.id, to: '+31687654321', type: 'text', content: { text: 'Your order shipped' }, tag: 'ORDER_UPDATE',
      source: { campaign: 'shipping' },
    });
    const reply = await replyToConversation(deps, caller, inboundConversation!, {
      type: 'image', content: { image: { url: 'https://cdn.example/receipt.png', caption: 'receipt' } },
    });
    const fileReply = await replyToConversation(deps, caller, inboundConversation!, {
      type: 'file', content: { file: { url: 'https://cdn.example/invoice.pdf' } },
    });

    // Status updates: the reply goes sent -> delivered -> read; the started message fails.
    const status = (m: Message, change: Parameters<typeof applyStatus>[2]) =>
      store.transaction((tx) => applyStatus(tx, m, change, now()));
    expect(await status(reply.message, { status: 'pending', providerMessageId: `sandbox-${reply.message.id}` })).toBe('applied');
    for (const s of ['sent', 'delivered', 'read'] as const) expect(await status(reply.message, { status: s })).toBe('applied');
    expect(await status(fileReply.message, { status: 'sent' })).toBe('applied');
    expect(await status(started.message, { status: 'failed', error: { code: 7, description: 'Number not reachable' } })).toBe('applied');

    // Archive both conversations.
    await updateConversationStatus({ store, clock: systemClock }, ws, inboundConversation!, { status: 'archived' });
    await updateConversationStatus({ store, clock: systemClock }, ws, started.conversation.id, { status: 'archived' });

    events = await store.listEvents(ws.id, null, 10_000);
    deliveriesTotal = (await store.listDeliveries(ws.id, hook.id, undefined, 0, 1)).total;
  });

  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const bodies = () => events.map((e) => ({ event: e, body: JSON.parse(e.payload) as Json & { conversation: Json; message?: Json } }));

  it('produced every event type, and the outbox holds them all', () => {
    const types = new Set(events.map((e) => e.type));
    expect([...types].sort()).toEqual([...WEBHOOK_EVENTS].sort());
    // 2 conversations created, 6 messages created (3 in, 3 out), 6 status updates, 2 archived.
    const count = (t: string) => events.filter((e) => e.type === t).length;
    expect([count('conversation.created'), count('message.created'), count('message.updated'), count('conversation.updated')])
      .toEqual([2, 6, 6, 2]);
    expect(deliveriesTotal).toBe(events.length);
  });

  it('emits only bodies that validate against the AsyncAPI schema of their type', () => {
    expect(events.length).toBeGreaterThan(0);
    for (const { event, body } of bodies()) {
      expect(body.type, event.id).toBe(event.type);
      const validate = event.type.startsWith('message.') ? validateMessage : validateConversation;
      expect(validate(body), `${event.type} ${event.payload}\n${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('has message events with exactly the keys {type, conversation, message}, conversation events {type, conversation}', () => {
    for (const { event, body } of bodies()) {
      const expected = event.type.startsWith('message.') ? ['conversation', 'message', 'type'] : ['conversation', 'type'];
      expect(Object.keys(body).sort(), event.type).toEqual(expected);
    }
  });

  it('gives every key the schema lists the type the schema says, and always emits the core keys', () => {
    const extras = { conversation: new Set<string>(), message: new Set<string>() };
    for (const { event, body } of bodies()) {
      const schema = event.type.startsWith('message.') ? messageSchema : conversationSchema;
      for (const part of ['conversation', 'message'] as const) {
        const obj = body[part];
        const listed = schema.properties[part]?.properties;
        if (obj === undefined || !listed) continue;
        expect(jsonType(obj)).toBe('object');
        for (const [key, value] of Object.entries(obj as Json)) {
          const prop = listed[key];
          if (!prop) {
            extras[part].add(key);
            continue;
          }
          expect(typeMatches(prop.type!, value), `${event.type} ${part}.${key} = ${JSON.stringify(value)} is not ${prop.type}`).toBe(true);
          if (prop.enum) expect(prop.enum, `${event.type} ${part}.${key}`).toContain(value);
          if (prop.format === 'date-time') expect(value).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        }
      }
      const conversation = body.conversation;
      for (const key of ['id', 'contactId', 'status', 'createdDatetime', 'updatedDatetime']) {
        expect(conversation, `${event.type} conversation.${key}`).toHaveProperty(key);
      }
      if (body.message) {
        for (const key of Object.keys(messageSchema.properties.message!.properties!)) {
          expect(body.message, `${event.type} message.${key}`).toHaveProperty(key);
        }
        expect(body.message.conversationId).toBe(conversation.id);
      }
    }
    // Beyond the schema: lastReceivedDatetime on conversation events (MessageEvent lists it,
    // ConversationEvent does not), and error / tag / source on messages that have them.
    expect([...extras.conversation].sort()).toEqual(['lastReceivedDatetime']);
    expect([...extras.message].sort()).toEqual(['error', 'source', 'tag']);
  });

  it('gives inbound messages the status `received` (the reason for the one change)', () => {
    const inbound = bodies().filter((b) => b.body.message && b.body.message.direction === 'received');
    expect(inbound).toHaveLength(3);
    for (const b of inbound) expect(b.body.message!.status).toBe('received');
    const unmodified = compile(schemaOf('MessageEvent'));
    for (const b of inbound) {
      expect(unmodified(b.body)).toBe(false);
      expect(unmodified.errors!.map((e) => e.instancePath)).toEqual(['/message/status']);
    }
  });

  it('covers text, image, file and location content, and the outbound status progression', () => {
    const messages = bodies().flatMap((b) => (b.body.message ? [b.body.message] : []));
    expect(new Set(messages.map((m) => m.type))).toEqual(new Set(['text', 'image', 'location', 'file']));
    expect(new Set(messages.map((m) => m.status))).toEqual(
      new Set(['received', 'accepted', 'pending', 'sent', 'delivered', 'read', 'failed']),
    );
    const failed = messages.find((m) => m.status === 'failed')!;
    expect(failed.error).toEqual({ code: 7, description: 'Number not reachable' });
    const archived = bodies().filter((b) => b.event.type === 'conversation.updated').map((b) => b.body.conversation.status);
    expect(archived).toEqual(['archived', 'archived']);
  });
});
