import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/domain/ids.js';
import type { Channel, Contact, Conversation, Message, Webhook } from '../../../src/domain/records.js';
import {
  channelSummaryV1, channelV1, contactV1, conversationEventBody, conversationEventV1, conversationV1, messageEventBody,
  messageV1, webhookV1,
} from '../../../src/domain/views-v1.js';

const PUBLIC_URL = 'https://roost.example.com';
const T0 = Date.UTC(2019, 1, 28, 17, 39, 52, 0);
const T1 = Date.UTC(2019, 2, 1, 10, 40, 2, 880);
const T2 = Date.UTC(2019, 2, 1, 10, 40, 2, 888);
const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const ws = newId<'workspace'>();

const SECRET_API_KEY = 'sk_live_7f3c9a1e5b2d4c6f8a0b';
const SECRET_SIGNING = 'whsec_0123456789abcdefSECRET';

function channel(over: Partial<Channel> = {}): Channel {
  return {
    id: newId(),
    workspaceId: ws,
    name: 'iMessage line',
    platformId: 'sendblue',
    status: 'active',
    settings: { fromNumber: '+14155550100' },
    secrets: { apiKey: SECRET_API_KEY, signingSecret: SECRET_SIGNING },
    createdAt: T0,
    updatedAt: null,
    ...over,
  };
}

function contact(over: Partial<Contact> = {}): Contact {
  return {
    id: newId(),
    workspaceId: ws,
    msisdn: '+31612345678',
    displayName: 'Jane',
    firstName: 'Jane',
    lastName: 'Doe',
    customDetails: { tier: 'gold' },
    createdAt: T0,
    updatedAt: null,
    ...over,
  };
}

function conversation(c: Contact, ch: Channel, over: Partial<Conversation> = {}): Conversation {
  return {
    id: newId(),
    workspaceId: ws,
    contactId: c.id,
    status: 'active',
    channelIds: [ch.id],
    lastUsedChannelId: ch.id,
    lastInboundChannelId: null,
    lastReceivedAt: T1,
    lastMessageId: null,
    messageCount: 3,
    createdAt: T0,
    updatedAt: T2,
    ...over,
  };
}

function message(conv: Conversation, ch: Channel, over: Partial<Message> = {}): Message {
  return {
    id: newId(),
    workspaceId: ws,
    conversationId: conv.id,
    channelId: ch.id,
    platform: 'sendblue',
    direction: 'received',
    status: 'received',
    type: 'text',
    content: { text: 'Testing webhook functionality.' },
    from: '+31612345678',
    to: '+14155550100',
    providerMessageId: 'provider-msg-123',
    mode: 'live',
    error: null,
    source: null,
    tag: null,
    reportUrl: 'https://customer.example/report',
    createdAt: T1,
    updatedAt: T2,
    ...over,
  };
}

function webhook(over: Partial<Webhook> = {}): Webhook {
  return {
    id: newId(),
    workspaceId: ws,
    channelId: null,
    url: 'https://customer.example/hook',
    events: ['message.created', 'message.updated'],
    status: 'enabled',
    settings: null,
    firstFailureAt: null,
    disabledReason: null,
    createdAt: T0,
    updatedAt: null,
    ...over,
  };
}

/** The message.created example in seed 000, cut out of the page and parsed. */
function seedExample(): { type: string; conversation: Record<string, unknown>; message: Record<string, unknown> } {
  const page = readFileSync(new URL('../../../../shared/seeds/000_b2489b640c9072fc.txt', import.meta.url), 'utf8');
  const start = page.indexOf('{\n"conversation"');
  const end = page.indexOf('"type": "message.created"\n}', start) + '"type": "message.created"\n}'.length;
  expect(start).toBeGreaterThan(-1);
  return JSON.parse(page.slice(start, end));
}

describe('channelV1', () => {
  it('exposes exactly the public fields', () => {
    const ch = channel();
    const v = channelV1(ch, PUBLIC_URL);
    expect(Object.keys(v).sort()).toEqual(
      ['createdDatetime', 'id', 'inboundUrl', 'name', 'platformId', 'settings', 'status', 'updatedDatetime'].sort(),
    );
    expect(v).toEqual({
      id: ch.id,
      name: 'iMessage line',
      platformId: 'sendblue',
      status: 'active',
      createdDatetime: '2019-02-28T17:39:52.000Z',
      updatedDatetime: null,
      settings: { fromNumber: '+14155550100' },
      inboundUrl: `${PUBLIC_URL}/inbound/${ch.id}`,
    });
  });

  it('never serialises secrets, under any key', () => {
    const json = JSON.stringify(channelV1(channel(), PUBLIC_URL));
    expect(json).not.toContain(SECRET_API_KEY);
    expect(json).not.toContain(SECRET_SIGNING);
    expect(json).not.toContain('secrets');
    expect(json).not.toContain('workspaceId');
    expect(json).not.toContain(ws);
  });

  it('the summary form has no settings or inbound URL either', () => {
    const v = channelSummaryV1(channel({ updatedAt: T1 }));
    expect(Object.keys(v).sort()).toEqual(['createdDatetime', 'id', 'name', 'platformId', 'status', 'updatedDatetime']);
    expect(v.updatedDatetime).toBe('2019-03-01T10:40:02.880Z');
    expect(JSON.stringify(v)).not.toContain(SECRET_API_KEY);
  });
});

describe('contactV1', () => {
  it('has msisdn as a number and an href', () => {
    const c = contact();
    const v = contactV1(c, PUBLIC_URL);
    expect(v.msisdn).toBe(31612345678);
    expect(typeof v.msisdn).toBe('number');
    expect(v.href).toBe(`${PUBLIC_URL}/v1/contacts/${c.id}`);
    expect(Object.keys(v).sort()).toEqual(
      ['createdDatetime', 'customDetails', 'displayName', 'firstName', 'href', 'id', 'lastName', 'msisdn', 'updatedDatetime'].sort(),
    );
    expect(JSON.stringify(v)).not.toContain('workspaceId');
  });

  it('has a null msisdn for a contact without a phone number', () => {
    expect(contactV1(contact({ msisdn: null }), PUBLIC_URL).msisdn).toBeNull();
  });
});

describe('conversationV1', () => {
  it('exposes exactly the v1 conversation fields', () => {
    const ch = channel();
    const c = contact();
    const mid = newId<'message'>();
    const conv = conversation(c, ch, { lastMessageId: mid });
    const v = conversationV1(conv, c, [ch], PUBLIC_URL);
    expect(Object.keys(v).sort()).toEqual(
      ['channels', 'contact', 'contactId', 'createdDatetime', 'id', 'lastReceivedDatetime', 'lastUsedChannelId', 'messages', 'status', 'updatedDatetime'].sort(),
    );
    expect(v.contact.msisdn).toBe(31612345678);
    expect(v.channels).toEqual([channelSummaryV1(ch)]);
    expect(v.messages).toEqual({ totalCount: 3, href: `${PUBLIC_URL}/v1/conversations/${conv.id}/messages`, lastMessageId: mid });
    expect(v.lastReceivedDatetime).toBe('2019-03-01T10:40:02.880Z');
    expect(v.createdDatetime).toBe('2019-02-28T17:39:52.000Z');
    expect(v.updatedDatetime).toBe('2019-03-01T10:40:02.888Z');
  });

  it('never leaks channel secrets or settings through embedded channels', () => {
    const ch = channel();
    const c = contact();
    const json = JSON.stringify(conversationV1(conversation(c, ch), c, [ch], PUBLIC_URL));
    expect(json).not.toContain(SECRET_API_KEY);
    expect(json).not.toContain(SECRET_SIGNING);
    expect(json).not.toContain(ws);
  });

  it('falls back to createdDatetime when never updated, and null lastReceivedDatetime when nothing was received', () => {
    const ch = channel();
    const c = contact();
    const v = conversationV1(conversation(c, ch, { updatedAt: null, lastReceivedAt: null }), c, [], PUBLIC_URL);
    expect(v.updatedDatetime).toBe(v.createdDatetime);
    expect(v.lastReceivedDatetime).toBeNull();
  });
});

describe('conversationEventV1', () => {
  it('is the short webhook shape', () => {
    const ch = channel();
    const c = contact();
    const conv = conversation(c, ch);
    expect(conversationEventV1(conv)).toEqual({
      id: conv.id,
      contactId: c.id,
      status: 'active',
      createdDatetime: '2019-02-28T17:39:52.000Z',
      updatedDatetime: '2019-03-01T10:40:02.888Z',
      lastReceivedDatetime: '2019-03-01T10:40:02.880Z',
    });
  });

  it('omits lastReceivedDatetime rather than sending null when nothing was received', () => {
    const ch = channel();
    const v = conversationEventV1(conversation(contact(), ch, { lastReceivedAt: null, updatedAt: null }));
    expect('lastReceivedDatetime' in v).toBe(false);
    expect(v.updatedDatetime).toBe(v.createdDatetime);
  });
});

describe('messageV1', () => {
  it('exposes exactly the v1 message fields and no internal ones', () => {
    const ch = channel();
    const conv = conversation(contact(), ch);
    const m = message(conv, ch);
    const v = messageV1(m);
    expect(Object.keys(v).sort()).toEqual(
      ['channelId', 'content', 'conversationId', 'createdDatetime', 'direction', 'from', 'id', 'platform', 'status', 'to', 'type', 'updatedDatetime'].sort(),
    );
    const json = JSON.stringify(v);
    for (const leak of ['workspaceId', 'providerMessageId', 'provider-msg-123', 'mode', 'reportUrl', 'customer.example/report', ws]) {
      expect(json).not.toContain(leak);
    }
  });

  it('adds error, source and tag only when present', () => {
    const ch = channel();
    const conv = conversation(contact(), ch);
    const m = message(conv, ch, {
      direction: 'sent',
      status: 'failed',
      error: { code: 7, description: 'rejected' },
      source: { agentId: 'a1' },
      tag: 'ACCOUNT_UPDATE',
    });
    const v = messageV1(m);
    expect(v.error).toEqual({ code: 7, description: 'rejected' });
    expect(v.source).toEqual({ agentId: 'a1' });
    expect(v.tag).toBe('ACCOUNT_UPDATE');
  });

  it('falls back to createdDatetime when never updated', () => {
    const ch = channel();
    const v = messageV1(message(conversation(contact(), ch), ch, { updatedAt: null }));
    expect(v.updatedDatetime).toBe(v.createdDatetime);
    expect(v.createdDatetime).toMatch(RFC3339_MS);
  });
});

describe('webhookV1', () => {
  it('exposes exactly the v1 webhook fields', () => {
    const w = webhook({ settings: { format: 'json' }, updatedAt: T1 });
    const v = webhookV1(w);
    expect(Object.keys(v).sort()).toEqual(['channelId', 'createdDatetime', 'events', 'id', 'settings', 'status', 'updatedDatetime', 'url'].sort());
    expect(v).toEqual({
      id: w.id,
      channelId: null,
      url: 'https://customer.example/hook',
      events: ['message.created', 'message.updated'],
      status: 'enabled',
      settings: { format: 'json' },
      createdDatetime: '2019-02-28T17:39:52.000Z',
      updatedDatetime: '2019-03-01T10:40:02.880Z',
    });
    expect(JSON.stringify(v)).not.toContain(ws);
  });

  it('leaves settings out of the JSON when there are none', () => {
    const parsed = JSON.parse(JSON.stringify(webhookV1(webhook())));
    expect('settings' in parsed).toBe(false);
    expect(parsed.updatedDatetime).toBeNull();
  });
});

describe('messageEventBody', () => {
  it('matches the message.created example of seed 000 key for key', () => {
    const example = seedExample();
    const ch = channel();
    const conv = conversation(contact(), ch);
    const body = JSON.parse(messageEventBody('message.created', conv, message(conv, ch)));

    expect(Object.keys(body).sort()).toEqual(Object.keys(example).sort());
    expect(Object.keys(body).sort()).toEqual(['conversation', 'message', 'type']);
    expect(body.type).toBe(example.type);

    expect(Object.keys(example.conversation).sort()).toEqual(
      ['contactId', 'createdDatetime', 'id', 'lastReceivedDatetime', 'status', 'updatedDatetime'],
    );
    expect(Object.keys(body.conversation).sort()).toEqual(Object.keys(example.conversation).sort());

    const exampleMessageKeys = Object.keys(example.message);
    expect(exampleMessageKeys.sort()).toEqual(
      ['channelId', 'content', 'conversationId', 'createdDatetime', 'direction', 'id', 'status', 'type', 'updatedDatetime'],
    );
    for (const k of exampleMessageKeys) expect(body.message, k).toHaveProperty(k);
  });

  it('carries the values of the records, with the same value types as the example', () => {
    const example = seedExample();
    const ch = channel();
    const conv = conversation(contact(), ch);
    const m = message(conv, ch);
    const body = JSON.parse(messageEventBody('message.updated', conv, m));
    expect(body.type).toBe('message.updated');
    expect(body.conversation.id).toBe(conv.id);
    expect(body.message.id).toBe(m.id);
    expect(body.message.conversationId).toBe(conv.id);
    expect(body.message.channelId).toBe(ch.id);
    expect(body.message.content).toEqual({ text: 'Testing webhook functionality.' });
    for (const k of Object.keys(example.message)) expect(typeof body.message[k], k).toBe(typeof example.message[k]);
    for (const k of Object.keys(example.conversation)) expect(typeof body.conversation[k], k).toBe(typeof example.conversation[k]);
    expect(body.conversation.lastReceivedDatetime).toMatch(RFC3339_MS);
    expect(body.message.id).toMatch(/^[0-9a-f]{32}$/);
    expect(example.message.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('contains nothing internal', () => {
    const ch = channel();
    const conv = conversation(contact(), ch);
    const json = messageEventBody('message.created', conv, message(conv, ch));
    expect(json).not.toContain(ws);
    expect(json).not.toContain('provider-msg-123');
    expect(json).not.toContain(SECRET_API_KEY);
  });
});

describe('conversationEventBody', () => {
  it('is {type, conversation} with the short conversation shape', () => {
    const ch = channel();
    const conv = conversation(contact(), ch);
    const body = JSON.parse(conversationEventBody('conversation.created', conv));
    expect(Object.keys(body).sort()).toEqual(['conversation', 'type']);
    expect(body.type).toBe('conversation.created');
    expect(body.conversation).toEqual(conversationEventV1(conv));
  });
});
