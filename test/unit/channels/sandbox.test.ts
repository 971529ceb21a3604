import { describe, expect, it } from 'vitest';
import type { StatusUpdate } from '../../../src/channels/connector.js';
import { connectorFor, connectors } from '../../../src/channels/registry.js';
import { sandboxConnector } from '../../../src/channels/sandbox/sandbox-connector.js';
import { sendblueConnector } from '../../../src/channels/sendblue/sendblue-connector.js';
import type { MessageContent, MessageType } from '../../../src/domain/content.js';
import { newId } from '../../../src/domain/ids.js';
import type { Channel } from '../../../src/domain/records.js';
import type { HttpClient } from '../../../src/net/http-client.js';
import { channelOf, contextFor, inboundRequest, outboundMessage, thrown } from './builders.js';

// ---- builders (shared ones in ./builders.ts) --------------------------------------------

/** The settings given replace the default ones (`channel({})` has no fromNumber). */
const channel = (settings: Record<string, unknown> = { fromNumber: '+10000000000' }, secrets: Record<string, string> = {}) =>
  channelOf('sandbox', settings, secrets);

const ctxFor = (ch: Channel) => contextFor(ch, { statusUrl: 'https://roost.example/status', tokens: 'never' });

const request = (body: unknown, headers: Record<string, string> = {}, method = 'POST') =>
  inboundRequest('https://roost.example/v1/sandbox/inbound', body, { headers, method });

const message = (ch: Channel, type: MessageType, content: MessageContent) =>
  outboundMessage(ch, type, content, { from: '+10000000000', to: '+31612345678', mode: 'test' });

const ch = channel();
const ctx = ctxFor(ch);
const parse = (body: unknown) => sandboxConnector.parse(request(body), ctx);

describe('sandbox parseSettings', () => {
  it('defaults fromNumber and keeps the secret out of settings', () => {
    expect(sandboxConnector.parseSettings({})).toEqual({ settings: { fromNumber: '+10000000000' }, secrets: {} });
    const out = sandboxConnector.parseSettings({ fromNumber: '0031 6 12345678', secret: 'pssst' });
    expect(out).toEqual({ settings: { fromNumber: '+31612345678' }, secrets: { secret: 'pssst' } });
    expect(JSON.stringify(out.settings)).not.toContain('pssst');
  });

  it('refuses invalid values and unknown keys', () => {
    expect(thrown(() => sandboxConnector.parseSettings({ fromNumber: 'nope' })).parameter).toBe('settings.fromNumber');
    expect(thrown(() => sandboxConnector.parseSettings({ secret: 5 })).parameter).toBe('settings.secret');
    const unknown = thrown(() => sandboxConnector.parseSettings({ apiKey: 'x' }));
    expect(unknown.kind).toBe('invalid_parameter');
    expect(unknown.parameter).toBe('settings.apiKey');
  });

  it('keeps unnamed values on PATCH', () => {
    const previous = sandboxConnector.parseSettings({ fromNumber: '+31612345678', secret: 'pssst' });
    expect(sandboxConnector.parseSettings({}, previous)).toEqual(previous);
    expect(sandboxConnector.parseSettings({ secret: null }, previous)).toEqual({ settings: { fromNumber: '+31612345678' }, secrets: {} });
  });
});

describe('sandbox verify', () => {
  it('accepts anything without a secret', () => {
    expect(sandboxConnector.verify(request({}), ctx)).toEqual({ ok: true });
  });

  it('checks x-roost-sandbox-secret when a secret is set', () => {
    const sctx = ctxFor(channel(undefined, { secret: 'pssst' }));
    expect(sandboxConnector.verify(request({}, { 'x-roost-sandbox-secret': 'pssst' }), sctx)).toEqual({ ok: true });
    expect(sandboxConnector.verify(request({}, { 'x-roost-sandbox-secret': 'pssss' }), sctx)).toMatchObject({ ok: false, status: 401 });
    expect(sandboxConnector.verify(request({}, { 'x-roost-sandbox-secret': 'p' }), sctx)).toMatchObject({ ok: false, status: 401 });
    expect(sandboxConnector.verify(request({}), sctx)).toMatchObject({ ok: false, status: 401 });
  });
});

describe('sandbox parse', () => {
  it('parses a text message from a phone number', () => {
    const { items } = parse({ from: '+31 6 12345678', text: 'Hi', name: 'Ann', id: 'm-1' });
    expect(items).toEqual([
      {
        kind: 'message',
        providerMessageId: 'm-1',
        contact: { key: 'phonenumber', value: '+31612345678' },
        contactName: 'Ann',
        from: '+31612345678',
        to: '+10000000000',
        type: 'text',
        content: { text: 'Hi' },
      },
    ]);
  });

  it('gives every message without id a fresh provider id', () => {
    const a = parse({ from: '+31612345678', text: 'Hi' }).items[0]!;
    const b = parse({ from: '+31612345678', text: 'Hi' }).items[0]!;
    expect(a.providerMessageId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.providerMessageId).not.toBe(b.providerMessageId);
  });

  it('uses a sandbox identifier for non-phone senders', () => {
    expect(parse({ from: 'alice', text: 'Hi' }).items[0]).toMatchObject({ contact: { key: 'sandbox', value: 'alice' }, from: 'alice' });
  });

  it('accepts type and content', () => {
    const { items } = parse({ from: '+31612345678', type: 'image', content: { image: { url: 'https://example.com/a.png', caption: 'c' } } });
    expect(items[0]).toMatchObject({ type: 'image', content: { image: { url: 'https://example.com/a.png', caption: 'c' } } });
  });

  it.each([
    ['no from', { text: 'Hi' }, 'missing_parameter', 'from'],
    ['no text', { from: '+31612345678' }, 'missing_parameter', 'text'],
    ['a non-string text', { from: '+31612345678', text: 5 }, 'invalid_parameter', 'text'],
    ['content without type', { from: '+31612345678', content: { text: 'x' } }, 'missing_parameter', 'type'],
    ['an unknown type', { from: '+31612345678', type: 'sticker', content: {} }, 'invalid_parameter', 'type'],
    ['a bad media url', { from: '+31612345678', type: 'image', content: { image: { url: 'ftp://x' } } }, 'invalid_parameter', 'content.image.url'],
    ['an unknown field', { from: '+31612345678', txt: 'Hi' }, 'invalid_parameter', 'txt'],
    ['a bad status', { messageId: newId(), status: 'done' }, 'invalid_parameter', 'status'],
    ['a status without ids', { status: 'sent' }, 'missing_parameter', 'messageId'],
    ['a malformed messageId', { status: 'sent', messageId: 'nope' }, 'invalid_parameter', 'messageId'],
  ])('refuses %s', (_what, body, kind, parameter) => {
    const err = thrown(() => parse(body));
    expect(err.kind).toBe(kind);
    expect(err.parameter).toBe(parameter);
  });

  it('refuses bodies that are not JSON objects', () => {
    expect(thrown(() => parse('{"from":')).kind).toBe('bad_request');
    expect(thrown(() => parse('[1]')).kind).toBe('bad_request');
  });

  it('parses status updates by Roost message id or provider id', () => {
    const id = newId<'message'>();
    expect(parse({ messageId: id, status: 'delivered' }).items).toEqual([
      { kind: 'status', providerMessageId: `sandbox-${id}`, messageId: id, status: 'delivered' },
    ]);
    const failed = parse({ id: 'p-1', status: 'failed' }).items[0] as StatusUpdate;
    expect(failed).toEqual({ kind: 'status', providerMessageId: 'p-1', status: 'failed', error: { code: 1, description: 'sandbox: simulated failure' } });
    const custom = parse({ id: 'p-1', status: 'failed', error: { code: 7, description: 'nope' } }).items[0] as StatusUpdate;
    expect(custom.error).toEqual({ code: 7, description: 'nope' });
  });
});

describe('sandbox send', () => {
  const http = {} as HttpClient; // never used: the sandbox has no network

  it('accepts without a provider', async () => {
    const msg = message(ch, 'text', { text: 'Hello' });
    expect(await sandboxConnector.send({ message: msg, channel: ch, ctx }, http)).toEqual({
      kind: 'accepted',
      providerMessageId: `sandbox-${msg.id}`,
      status: 'accepted',
    });
    expect(sandboxConnector.simulatedProgress).toEqual(['sent', 'delivered']);
  });

  it('fails a text of exactly FAIL', async () => {
    const outcome = await sandboxConnector.send({ message: message(ch, 'text', { text: 'FAIL' }), channel: ch, ctx }, http);
    expect(outcome).toEqual({ kind: 'failed', error: { code: 1, description: 'sandbox: simulated failure' } });
    const notQuite = await sandboxConnector.send({ message: message(ch, 'text', { text: 'FAIL!' }), channel: ch, ctx }, http);
    expect(notQuite.kind).toBe('accepted');
  });

  it('sends from its number and identifies phones and sandbox users', () => {
    expect(sandboxConnector.ownAddress(ch)).toBe('+10000000000');
    expect(sandboxConnector.ownAddress(channel({}))).toBe('+10000000000');
    expect(sandboxConnector.identifierFor('+31612345678')).toEqual({ key: 'phonenumber', value: '+31612345678' });
    expect(sandboxConnector.identifierFor('alice')).toEqual({ key: 'sandbox', value: 'alice' });
    expect(sandboxConnector.identifierFor(' ')).toBeUndefined();
  });
});

describe('connector registry', () => {
  it('knows sendblue and sandbox under their platform ids, and nothing it does not ship', () => {
    expect([...connectors.keys()]).toEqual(expect.arrayContaining(['sandbox', 'sendblue']));
    for (const [platform, connector] of connectors) expect(connector.platform).toBe(platform);
    expect(connectorFor('sendblue')).toBe(sendblueConnector);
    expect(connectorFor('sandbox')).toBe(sandboxConnector);
    expect(connectorFor('fax')).toBeUndefined();
  });
});
