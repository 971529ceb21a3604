import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageResponse, startFakeSendblue } from '../helpers/fake-sendblue.js';
import {
  BIN, ISO_DATETIME, createSendblueChannel, conversationsOf, countRows, createSandboxChannel, createWorkspace, eventsOfConversation,
  expectError, listAll, messagesOf, phoneFactory, postInbound, queryOne, sleep, unknownId, waitForStatus,
} from '../helpers/e2e-fixtures.js';
import type { Api, ChannelView, Json, WorkspaceKeys } from '../helpers/e2e-fixtures.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { TEST_ENGINE, apiClient, eventually, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';

const phone = phoneFactory();

/** A sandbox contact writes in; returns its active conversation and the message. */
async function inbound(api: Api, channel: ChannelView, from: string, text = 'hello'): Promise<{ conversation: Json; message: Json }> {
  const res = await postInbound(channel.inboundUrl, { from, text });
  expect(res.status, res.text).toBe(200);
  const conversation = (await conversationsOf(api, from)).find((c) => c.status === 'active');
  expect(conversation).toBeDefined();
  const msgs = await messagesOf(api, conversation.id);
  return { conversation, message: msgs.items[0] };
}

const hook = (over: Record<string, unknown> = {}) => ({ events: ['message.created', 'message.updated'], url: 'https://example.com/webhook', ...over });

describe('API conventions (end to end)', () => {
  let roost: RoostProcess;
  let api: Api;
  let sandbox: ChannelView;

  beforeAll(async () => {
    roost = await startRoost();
    api = apiClient(roost.url, roost.liveKey!);
    sandbox = await createSandboxChannel(api);
  });

  afterAll(async () => {
    await roost?.stop();
    if (roost) await removeDataDir(roost.dataDir);
  });

  describe('authentication', () => {
    const expect401 = (res: Awaited<ReturnType<Api>>) => {
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type') ?? '').toMatch(/application\/json/);
      expect(res.json).toEqual({ errors: [{ code: 2, description: expect.any(String), parameter: 'access_key' }] });
    };

    it('refuses a missing header, a wrong scheme and a wrong key with 401 code 2', async () => {
      const bare = await fetch(`${roost.url}/v1/conversations`);
      expect401({ status: bare.status, headers: bare.headers, text: '', json: await bare.json() });
      expect401(await api('GET', '/v1/conversations', undefined, { authorization: `Bearer ${roost.liveKey}` }));
      expect401(await api('GET', '/v1/conversations', undefined, { authorization: `Basic ${roost.liveKey}` }));
      expect401(await api('GET', '/v1/conversations', undefined, { authorization: roost.liveKey! }));
      expect401(await api('GET', '/v1/conversations', undefined, { authorization: 'AccessKey' }));
      expect401(await apiClient(roost.url, 'live_wrongwrongwrongwrongwrongwrong12')('GET', '/v1/conversations'));
      expect401(await apiClient(roost.url, `${roost.liveKey}x`)('GET', '/v1/conversations'));
      expect401(await apiClient(roost.url, 'wrong')('POST', '/v1/send', { from: sandbox.id, to: phone(), type: 'text', content: { text: 'x' } }));
    });

    it('accepts the live key and the test key', async () => {
      expect((await api('GET', '/v1/conversations')).status).toBe(200);
      expect((await apiClient(roost.url, roost.testKey!)('GET', '/v1/conversations')).status).toBe(200);
    });
  });

  describe('errors', () => {
    it('answers an unknown route with 404 code 98', async () => {
      expectError(await api('GET', '/v1/nope'), 404, 98);
      expectError(await api('POST', '/v1/conversations/start/extra', {}), 404, 98);
      expectError(await api('GET', '/nope'), 404, 98);
    });

    it('answers a method a known path does not serve with 405 code 98 and an Allow header', async () => {
      const { conversation, message } = await inbound(api, sandbox, phone());
      for (const [method, path, allow] of [
        ['PUT', '/v1/conversations', 'GET, HEAD'],
        ['DELETE', `/v1/messages/${message.id}`, 'GET, HEAD'],
        ['PUT', `/v1/conversations/${conversation.id}`, 'GET, HEAD, PATCH'],
        ['GET', '/v1/send', 'POST'],
      ] as const) {
        const res = await api(method, path, method === 'GET' ? undefined : {});
        expectError(res, 405, 98);
        expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      }
      // Nothing changed: the conversation is as it was.
      expect((await api('GET', `/v1/conversations/${conversation.id}`)).json.status).toBe('active');
    });

    it('answers unknown and malformed ids with 404 code 20', async () => {
      const { conversation } = await inbound(api, sandbox, phone());
      for (const id of [unknownId(), 'not-an-id', '1234']) {
        expectError(await api('GET', `/v1/conversations/${id}`), 404, 20);
        expectError(await api('GET', `/v1/conversations/${id}/messages`), 404, 20);
        expectError(await api('POST', `/v1/conversations/${id}/messages`, { type: 'text', content: { text: 'x' } }), 404, 20);
        expectError(await api('PATCH', `/v1/conversations/${id}`, { status: 'archived' }), 404, 20);
        expectError(await api('GET', `/v1/messages/${id}`), 404, 20);
        expectError(await api('GET', `/v1/webhooks/${id}`), 404, 20);
        expectError(await api('PATCH', `/v1/webhooks/${id}`, { status: 'disabled' }), 404, 20);
        expectError(await api('DELETE', `/v1/webhooks/${id}`), 404, 20);
        expectError(await api('GET', `/v1/channels/${id}`), 404, 20);
        expectError(await api('PATCH', `/v1/channels/${id}`, { name: 'x' }), 404, 20);
        expectError(await api('DELETE', `/v1/channels/${id}`), 404, 20);
      }
      // A conversation id is not a message id.
      expectError(await api('GET', `/v1/messages/${conversation.id}`), 404, 20);
      // A well-formed but unknown channel in a send.
      expectError(await api('POST', '/v1/send', { from: unknownId(), to: phone(), type: 'text', content: { text: 'x' } }), 404, 20);
    });

    it('answers a missing required parameter with 422 code 9 naming it', async () => {
      const { conversation } = await inbound(api, sandbox, phone());
      const to = phone();
      const cases: Array<[string, string, Record<string, unknown>, string]> = [
        ['POST', '/v1/send', { from: sandbox.id, type: 'text', content: { text: 'x' } }, 'to'],
        ['POST', '/v1/send', { to, type: 'text', content: { text: 'x' } }, 'from'],
        ['POST', '/v1/send', { from: sandbox.id, to, content: { text: 'x' } }, 'type'],
        ['POST', '/v1/send', { from: sandbox.id, to, type: 'text' }, 'content'],
        ['POST', '/v1/send', { from: sandbox.id, to, type: 'text', content: {} }, 'content.text'],
        ['POST', '/v1/conversations/start', { to, type: 'text', content: { text: 'x' } }, 'channelId'],
        ['POST', '/v1/conversations/start', { channelId: sandbox.id, type: 'text', content: { text: 'x' } }, 'to'],
        ['POST', `/v1/conversations/${conversation.id}/messages`, {}, 'type'],
        ['PATCH', `/v1/conversations/${conversation.id}`, {}, 'status'],
        ['POST', '/v1/webhooks', { events: ['message.created'] }, 'url'],
        ['POST', '/v1/webhooks', { url: 'https://example.com/h' }, 'events'],
        ['POST', '/v1/channels', { name: 'x' }, 'platformId'],
        ['POST', '/v1/channels', { platformId: 'sendblue', settings: { apiSecretKey: 's', fromNumber: '+15122164639' } }, 'settings.apiKeyId'],
      ];
      for (const [method, path, body, parameter] of cases) {
        const res = await api(method, path, body);
        expectError(res, 422, 9, parameter);
      }
      expect(await conversationsOf(api, to)).toHaveLength(0);
    });

    it('answers an invalid parameter with 422 code 10 naming it', async () => {
      const { conversation } = await inbound(api, sandbox, phone());
      const to = phone();
      const bodies: Array<[string, string, Record<string, unknown> | undefined, string]> = [
        ['POST', '/v1/send', { from: sandbox.id, to, type: 'sticker', content: { text: 'x' } }, 'type'],
        ['POST', '/v1/send', { from: sandbox.id, to, type: 'text', content: 'x' }, 'content'],
        ['POST', '/v1/send', { from: sandbox.id, to, type: 'text', content: { text: 42 } }, 'content.text'],
        ['POST', '/v1/send', { from: sandbox.id, to: true, type: 'text', content: { text: 'x' } }, 'to'],
        ['POST', '/v1/send', { from: 'channel-1', to, type: 'text', content: { text: 'x' } }, 'from'],
        ['PATCH', `/v1/conversations/${conversation.id}`, { status: 'closed' }, 'status'],
        ['POST', '/v1/webhooks', hook({ events: ['message.deleted'] }), 'events'],
        ['POST', '/v1/webhooks', hook({ events: 'message.created' }), 'events'],
        ['POST', '/v1/webhooks', hook({ url: 'not a url' }), 'url'],
        ['POST', '/v1/channels', { platformId: 'carrier-pigeon' }, 'platformId'],
        ['GET', '/v1/conversations?status=closed', undefined, 'status'],
        ['GET', '/v1/conversations?limit=0', undefined, 'limit'],
        ['GET', '/v1/conversations?limit=abc', undefined, 'limit'],
        ['GET', '/v1/conversations?limit=101', undefined, 'limit'],
        ['GET', '/v1/conversations?limit=1.5', undefined, 'limit'],
        ['GET', '/v1/conversations?offset=-1', undefined, 'offset'],
        ['GET', '/v1/conversations?offset=abc', undefined, 'offset'],
        ['GET', '/v1/webhooks?limit=0', undefined, 'limit'],
        ['GET', '/v1/channels?offset=-1', undefined, 'offset'],
        ['GET', `/v1/conversations/${conversation.id}/messages?limit=abc`, undefined, 'limit'],
      ];
      for (const [method, path, body, parameter] of bodies) {
        expectError(await api(method, path, body), 422, 10, parameter);
      }
      expect(await conversationsOf(api, to)).toHaveLength(0);
    });

    it('answers malformed JSON with 400 code 21', async () => {
      const { conversation } = await inbound(api, sandbox, phone());
      for (const [method, path] of [
        ['POST', '/v1/send'], ['POST', '/v1/conversations/start'], ['POST', `/v1/conversations/${conversation.id}/messages`],
        ['PATCH', `/v1/conversations/${conversation.id}`], ['POST', '/v1/webhooks'], ['POST', '/v1/channels'],
      ] as const) {
        expectError(await api(method, path, '{"type": "text", '), 400, 21);
        expectError(await api(method, path, '[1, 2]'), 400, 21);
      }
      // A JSON body labelled as a form is still JSON, and still malformed.
      expectError(await api('POST', '/v1/send', '{"to":', { 'content-type': 'application/x-www-form-urlencoded' }), 400, 21);
      expect((await api('GET', `/v1/conversations/${conversation.id}`)).json.status).toBe('active');
    });
  });

  describe('what the HTTP layer answers before any route', () => {
    /** Writes `raw` on a new connection and returns all it reads until the server closes it. */
    const rawExchange = (raw: string) => new Promise<string>((resolve, reject) => {
      const socket = connect(roost.port, '127.0.0.1');
      let got = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (got += d));
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
      socket.on('connect', () => socket.write(raw));
    });
    const errorsOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Json;

    it('answers an id past the router\'s length with 404 code 20, and a path that does not decode with 400 code 21', async () => {
      const long = 'a'.repeat(120);
      expectError(await api('GET', `/v1/webhooks/${long}/deliveries`), 404, 20);
      expectError(await api('GET', `/v1/conversations/${long}`), 404, 20);
      expectError(await postInbound(`${roost.url}/inbound/${long}`, { from: phone(), text: 'x' }), 404, 20);
      for (const path of ['/v1/conversations/%ZZ', '/v1/conversations/%', '/v1/conversations/%c0%ae']) {
        expectError(await api('GET', path), 400, 21);
      }
      expectError(await postInbound(`${roost.url}/inbound/%ZZ`, { from: phone(), text: 'x' }), 400, 21);
    });

    it('answers requests Node\'s HTTP parser refuses in the errors body: 400 code 21, and 431 for headers too large', async () => {
      const key = `authorization: AccessKey ${roost.liveKey}\r\n`;
      for (const framing of [
        'content-length: abc\r\n', 'content-length: -1\r\n', 'content-length: 2\r\ncontent-length: 3\r\n',
        'content-length: 2\r\ntransfer-encoding: chunked\r\n', 'x-bad: a\u0000b\r\n',
      ]) {
        const answer = await rawExchange(`POST /v1/send HTTP/1.1\r\nhost: x\r\n${key}${framing}\r\n{}`);
        expect(answer, framing).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
        expect(answer).toMatch(/\r\ncontent-type: application\/json/);
        expect(errorsOf(answer)).toEqual({ errors: [{ code: 21, description: expect.any(String), parameter: null }] });
      }
      const huge = await rawExchange(`GET /v1/conversations HTTP/1.1\r\nhost: x\r\n${key}x-big: ${'b'.repeat(20_000)}\r\n\r\n`);
      expect(huge).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect(errorsOf(huge)).toEqual({ errors: [{ code: 21, description: expect.any(String), parameter: null }] });
      // The server goes on answering.
      expect((await api('GET', '/v1/conversations')).status).toBe(200);
    });
  });

  describe('nesting', () => {
    // `levels` objects nested inside one another: {"x":{"x":...}}.
    const nest = (levels: number, inner = '1') => '{"x":'.repeat(levels) + inner + '}'.repeat(levels);

    it('answers a body nesting objects or arrays deeper than 64 levels with 400 code 21, and goes on working', async () => {
      // 2,000 levels once left a send committed but unanswered and every later send and
      // delivery stalled; 10,000 stopped the process. Both are refused before any write.
      for (const levels of [65, 2_000, 10_000]) {
        for (const [method, path, body] of [
          ['POST', '/v1/send', `{"from":"${sandbox.id}","to":"${phone()}","type":"text","content":{"text":"x"},"source":${nest(levels - 1)}}`],
          ['POST', '/v1/webhooks', `{"events":["message.created"],"url":"https://example.com/w","settings":${'['.repeat(levels)}${']'.repeat(levels)}}`],
          ['POST', '/v1/conversations/start', `{"channelId":"${sandbox.id}","to":"${phone()}","type":"text","content":{"text":"x"},"source":${nest(levels - 1)}}`],
        ] as const) {
          const res = await api(method, path, body);
          expectError(res, 400, 21);
          expect(res.json.errors[0].description).toMatch(/deeper than 64 levels/);
        }
        const deepInbound = await postInbound(sandbox.inboundUrl, `{"from":"${phone()}","text":"x","extra":${nest(levels - 1)}}`);
        expectError(deepInbound, 400, 21);
      }
      // 64 levels is still fine.
      const to = phone();
      const sent = await api('POST', '/v1/send', `{"from":"${sandbox.id}","to":"${to}","type":"text","content":{"text":"x"},"source":${nest(63)}}`);
      expect(sent.status, sent.text).toBeLessThan(300);
      const { conversation } = await inbound(api, sandbox, phone());
      expect((await api('GET', `/v1/conversations/${conversation.id}`)).json.status).toBe('active');
    });
  });

  describe('GET alternative and _method', () => {
    it('sends a message with GET /v1/send?_method=POST and query attributes', async () => {
      const to = phone();
      const q = new URLSearchParams({ _method: 'POST', from: sandbox.id, to, type: 'text', 'content[text]': 'hi' });
      const res = await api('GET', `/v1/send?${q}`);
      expect(res.status, res.text).toBe(202);
      expect(res.json).toMatchObject({ id: expect.any(String), status: 'accepted', message: { id: res.json.id } });
      const m = await api('GET', `/v1/messages/${res.json.id}`);
      expect(m.status).toBe(200);
      expect(m.json).toMatchObject({ direction: 'sent', to, channelId: sandbox.id, type: 'text', content: { text: 'hi' } });
    });

    it('archives a conversation with _method=PATCH and status in the query', async () => {
      const { conversation } = await inbound(api, sandbox, phone());
      const res = await api('GET', `/v1/conversations/${conversation.id}?_method=PATCH&status=archived`);
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({ id: conversation.id, status: 'archived' });
      expect((await api('GET', `/v1/conversations/${conversation.id}`)).json.status).toBe('archived');
    });

    it('deletes a webhook with _method=DELETE', async () => {
      const created = await api('POST', '/v1/webhooks', hook({ url: 'https://example.com/method-delete' }));
      expect(created.status, created.text).toBe(201);
      const res = await api('GET', `/v1/webhooks/${created.json.id}?_method=DELETE`);
      expect(res.status, res.text).toBe(204);
      expect(res.text).toBe('');
      expectError(await api('GET', `/v1/webhooks/${created.json.id}`), 404, 20);
    });
  });

  describe('lists and pagination', () => {
    let ws: WorkspaceKeys;
    let wsApi: Api;
    let channel: ChannelView;
    const numbers: string[] = [];
    const convIds = new Map<number, string>();

    beforeAll(async () => {
      ws = await createWorkspace(roost, 'paging');
      wsApi = apiClient(roost.url, ws.liveKey);
      channel = await createSandboxChannel(wsApi);
      for (let i = 0; i < 25; i++) {
        const n = phone();
        numbers.push(n);
        const res = await postInbound(channel.inboundUrl, { from: n, text: `message ${i}` });
        expect(res.status, res.text).toBe(200);
      }
      // The oldest conversation receives again (a later millisecond), so it must sort first.
      await sleep(5);
      expect((await postInbound(channel.inboundUrl, { from: numbers[0], text: 'back again' })).status).toBe(200);
      for (const c of await listAll(wsApi, '/v1/conversations')) convIds.set(c.contact.msisdn, c.id);
    });

    it('wraps every list in {offset, limit, count, totalCount, items} with defaults limit 10 offset 0', async () => {
      const convs = await wsApi('GET', '/v1/conversations');
      expect(convs.status).toBe(200);
      expect(Object.keys(convs.json).sort()).toEqual(['count', 'items', 'limit', 'offset', 'totalCount']);
      expect(convs.json).toMatchObject({ offset: 0, limit: 10, count: 10, totalCount: 25 });
      expect(convs.json.items).toHaveLength(10);

      const hooks = await wsApi('GET', '/v1/webhooks');
      expect(hooks.json).toEqual({ offset: 0, limit: 10, count: 0, totalCount: 0, items: [] });

      const channels = await wsApi('GET', '/v1/channels');
      expect(channels.json).toMatchObject({ offset: 0, limit: 10, count: 1, totalCount: 1 });
      expect(channels.json.items[0].id).toBe(channel.id);

      const first = convs.json.items[0];
      const msgs = await wsApi('GET', `/v1/conversations/${first.id}/messages`);
      expect(msgs.json).toMatchObject({ offset: 0, limit: 10, count: 2, totalCount: 2 });
      expect(msgs.json.items.map((m: Json) => m.content.text)).toEqual(['back again', 'message 0']);

      const beyond = await wsApi('GET', '/v1/conversations?offset=100');
      expect(beyond.json).toEqual({ offset: 100, limit: 10, count: 0, totalCount: 25, items: [] });
    });

    it('pages 25 conversations into disjoint pages, newest lastReceivedDatetime first', async () => {
      const pages: Json[] = [];
      for (const offset of [0, 10, 20]) {
        const res = await wsApi('GET', `/v1/conversations?limit=10&offset=${offset}`);
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ offset, limit: 10, totalCount: 25, count: offset === 20 ? 5 : 10 });
        pages.push(...res.json.items);
      }
      const ids = pages.map((c) => c.id);
      expect(new Set(ids).size).toBe(25);
      const times = pages.map((c) => Date.parse(c.lastReceivedDatetime));
      for (let i = 1; i < times.length; i++) expect(times[i]).toBeLessThanOrEqual(times[i - 1]!);
      const expected = [numbers[0]!, ...numbers.slice(1).reverse()].map((n) => Number(n.slice(1)));
      expect(pages.map((c) => c.contact.msisdn)).toEqual(expected);
    });

    it('filters by status and by ids', async () => {
      const archive = numbers.slice(1, 4).map((n) => convIds.get(Number(n.slice(1)))!);
      for (const id of archive) {
        expect((await wsApi('PATCH', `/v1/conversations/${id}`, { status: 'archived' })).status).toBe(200);
      }
      const archived = await wsApi('GET', '/v1/conversations?status=archived&limit=100');
      expect(archived.json).toMatchObject({ totalCount: 3, count: 3 });
      expect(archived.json.items.map((c: Json) => c.id).sort()).toEqual([...archive].sort());
      expect(archived.json.items.every((c: Json) => c.status === 'archived')).toBe(true);

      const active = await wsApi('GET', '/v1/conversations?status=active&limit=100');
      expect(active.json).toMatchObject({ totalCount: 22, count: 22 });
      expect(active.json.items.every((c: Json) => c.status === 'active')).toBe(true);

      const wanted = numbers.slice(5, 8).map((n) => convIds.get(Number(n.slice(1)))!);
      const byIds = await wsApi('GET', `/v1/conversations?ids=${[...wanted, unknownId()].join(',')}`);
      expect(byIds.json).toMatchObject({ totalCount: 3, count: 3 });
      expect(byIds.json.items.map((c: Json) => c.id).sort()).toEqual([...wanted].sort());

      const both = await wsApi('GET', `/v1/conversations?status=archived&ids=${[archive[0], wanted[0]].join(',')}`);
      expect(both.json.items.map((c: Json) => c.id)).toEqual([archive[0]]);
    });
  });

  describe('workspace isolation', () => {
    it("hides every resource of one workspace from another workspace's keys", async () => {
      const ch = await createSandboxChannel(api, {}, 'isolated');
      const { conversation, message } = await inbound(api, ch, phone(), 'private');
      const wh = await api('POST', '/v1/webhooks', hook({ channelId: ch.id, url: 'https://example.com/isolated' }));
      expect(wh.status, wh.text).toBe(201);

      const other = await createWorkspace(roost, 'other');
      for (const key of [other.liveKey, other.testKey]) {
        const o = apiClient(roost.url, key);
        expectError(await o('GET', `/v1/conversations/${conversation.id}`), 404, 20);
        expectError(await o('GET', `/v1/conversations/${conversation.id}/messages`), 404, 20);
        expectError(await o('GET', `/v1/messages/${message.id}`), 404, 20);
        expectError(await o('GET', `/v1/channels/${ch.id}`), 404, 20);
        expectError(await o('GET', `/v1/webhooks/${wh.json.id}`), 404, 20);

        for (const path of ['/v1/conversations', '/v1/channels', '/v1/webhooks']) {
          const list = await o('GET', path);
          expect(list.status).toBe(200);
          expect(list.json).toMatchObject({ totalCount: 0, count: 0, items: [] });
        }
        expect((await o('GET', `/v1/conversations?ids=${conversation.id}`)).json.items).toEqual([]);

        // Writes are refused too.
        expectError(await o('PATCH', `/v1/conversations/${conversation.id}`, { status: 'archived' }), 404, 20);
        expectError(await o('POST', `/v1/conversations/${conversation.id}/messages`, { type: 'text', content: { text: 'x' } }), 404, 20);
        expectError(await o('PATCH', `/v1/channels/${ch.id}`, { name: 'stolen' }), 404, 20);
        expectError(await o('DELETE', `/v1/channels/${ch.id}`), 404, 20);
        expectError(await o('PATCH', `/v1/webhooks/${wh.json.id}`, { status: 'disabled' }), 404, 20);
        expectError(await o('DELETE', `/v1/webhooks/${wh.json.id}`), 404, 20);
        const send = await o('POST', '/v1/send', { from: ch.id, to: phone(), type: 'text', content: { text: 'x' } });
        expect(send.status).toBeGreaterThanOrEqual(400);
        expect(send.status).toBeLessThan(500);
        expectError(send, send.status);
        const start = await o('POST', '/v1/conversations/start', { channelId: ch.id, to: phone(), type: 'text', content: { text: 'x' } });
        expect(start.status).toBeGreaterThanOrEqual(400);
        expect(start.status).toBeLessThan(500);
        expectError(await o('POST', '/v1/webhooks', hook({ channelId: ch.id })), 422, 10, 'channelId');
        expect((await o('GET', '/v1/conversations')).json.totalCount).toBe(0);
      }

      // Nothing of the first workspace changed.
      expect((await api('GET', `/v1/conversations/${conversation.id}`)).json).toMatchObject({ status: 'active', messages: { totalCount: 1 } });
      expect((await api('GET', `/v1/channels/${ch.id}`)).json).toMatchObject({ name: 'isolated', status: 'active' });
      expect((await api('GET', `/v1/webhooks/${wh.json.id}`)).json).toMatchObject({ status: 'enabled' });

      // And the other way round.
      const o = apiClient(roost.url, other.liveKey);
      const theirs = await createSandboxChannel(o, {}, 'theirs');
      expectError(await api('GET', `/v1/channels/${theirs.id}`), 404, 20);
      const send = await api('POST', '/v1/send', { from: theirs.id, to: phone(), type: 'text', content: { text: 'x' } });
      expect(send.status).toBeGreaterThanOrEqual(400);
      expect(send.status).toBeLessThan(500);
      expect((await o('GET', '/v1/conversations')).json.totalCount).toBe(0);
    });
  });

  describe('webhooks API', () => {
    let ws: WorkspaceKeys;
    let wsApi: Api;
    let channel: ChannelView;

    beforeAll(async () => {
      ws = await createWorkspace(roost, 'hooks');
      wsApi = apiClient(roost.url, ws.liveKey);
      channel = await createSandboxChannel(wsApi);
    });

    it('creates, reads, lists, updates and deletes a webhook', async () => {
      const created = await wsApi('POST', '/v1/webhooks', hook({ channelId: channel.id }));
      expect(created.status, created.text).toBe(201);
      const w = created.json;
      expect(w).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        channelId: channel.id,
        url: 'https://example.com/webhook',
        events: ['message.created', 'message.updated'],
        status: 'enabled',
        createdDatetime: expect.stringMatching(ISO_DATETIME),
        updatedDatetime: null,
      });

      expect((await wsApi('GET', `/v1/webhooks/${w.id}`)).json).toEqual(w);
      const list = await wsApi('GET', '/v1/webhooks');
      expect(list.json).toMatchObject({ offset: 0, limit: 10, count: 1, totalCount: 1 });
      expect(list.json.items[0]).toEqual(w);

      const patched = await wsApi('PATCH', `/v1/webhooks/${w.id}`, { events: ['conversation.updated'], url: 'https://example.com/mynewwebhookurl', status: 'disabled' });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.json).toMatchObject({
        id: w.id, channelId: channel.id, events: ['conversation.updated'], url: 'https://example.com/mynewwebhookurl', status: 'disabled',
        updatedDatetime: expect.stringMatching(ISO_DATETIME),
      });
      expect((await wsApi('GET', `/v1/webhooks/${w.id}`)).json).toMatchObject({ status: 'disabled', events: ['conversation.updated'] });
      const enabled = await wsApi('PATCH', `/v1/webhooks/${w.id}`, { status: 'enabled' });
      expect(enabled.json).toMatchObject({ status: 'enabled', url: 'https://example.com/mynewwebhookurl' });
      expectError(await wsApi('PATCH', `/v1/webhooks/${w.id}`, { status: 'paused' }), 422, 10, 'status');
      expectError(await wsApi('PATCH', `/v1/webhooks/${w.id}`, { events: ['message.created', 'nope'] }), 422, 10, 'events');

      const generic = await wsApi('POST', '/v1/webhooks', hook({ events: ['conversation.created'] }));
      expect(generic.status).toBe(201);
      expect(generic.json).toMatchObject({ channelId: null, status: 'enabled' });

      const del = await wsApi('DELETE', `/v1/webhooks/${w.id}`);
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expectError(await wsApi('GET', `/v1/webhooks/${w.id}`), 404, 20);
      expectError(await wsApi('DELETE', `/v1/webhooks/${w.id}`), 404, 20);
      expect((await wsApi('DELETE', `/v1/webhooks/${generic.json.id}`)).status).toBe(204);
      expect((await wsApi('GET', '/v1/webhooks')).json.totalCount).toBe(0);
    });

    it('refuses an unknown event name and an unknown channel', async () => {
      expectError(await wsApi('POST', '/v1/webhooks', hook({ events: ['message.created', 'message.exploded'] })), 422, 10, 'events');
      expectError(await wsApi('POST', '/v1/webhooks', hook({ events: [] })), 422, 10, 'events');
      expectError(await wsApi('POST', '/v1/webhooks', hook({ channelId: unknownId() })), 422, 10, 'channelId');
      expect((await wsApi('GET', '/v1/webhooks')).json.totalCount).toBe(0);
    });

    it('allows 10 channel-specific and 5 generic webhooks per workspace', async () => {
      const second = await createSandboxChannel(wsApi, {}, 'second');
      const specific: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await wsApi('POST', '/v1/webhooks', hook({ channelId: i % 2 ? second.id : channel.id, url: `https://example.com/specific/${i}` }));
        expect(res.status, res.text).toBe(201);
        specific.push(res.json.id);
      }
      const eleventh = await wsApi('POST', '/v1/webhooks', hook({ channelId: channel.id, url: 'https://example.com/specific/10' }));
      expectError(eleventh, 422, 10);
      expect(eleventh.json.errors[0].description).toMatch(/10/);
      expect(eleventh.json.errors[0].description).toMatch(/channel/i);

      for (let i = 0; i < 5; i++) {
        const res = await wsApi('POST', '/v1/webhooks', hook({ url: `https://example.com/generic/${i}` }));
        expect(res.status, res.text).toBe(201);
      }
      const sixth = await wsApi('POST', '/v1/webhooks', hook({ url: 'https://example.com/generic/5' }));
      expectError(sixth, 422, 10);
      expect(sixth.json.errors[0].description).toMatch(/5/);
      expect(sixth.json.errors[0].description).toMatch(/generic/i);
      expect((await wsApi('GET', '/v1/webhooks?limit=100')).json.totalCount).toBe(15);

      // Limits count what exists: after a delete there is room again.
      expect((await wsApi('DELETE', `/v1/webhooks/${specific[0]}`)).status).toBe(204);
      expect((await wsApi('POST', '/v1/webhooks', hook({ channelId: channel.id, url: 'https://example.com/specific/again' }))).status).toBe(201);
    });
  });

  describe('outbox', () => {
    it('writes an event for every change, shaped like the MessageBird webhook payloads', async () => {
      const from = phone();
      const { conversation, message } = await inbound(api, sandbox, from, 'Testing webhook functionality.');

      let events = await eventsOfConversation(roost, conversation.id);
      expect(events.map((e) => e.type)).toEqual(['conversation.created', 'message.created']);
      const created = JSON.parse(events[0]!.payload);
      expect(Object.keys(created).sort()).toEqual(['conversation', 'type']);
      expect(created.type).toBe('conversation.created');
      expect(created.conversation).toMatchObject({ id: conversation.id, contactId: conversation.contactId, status: 'active' });

      const msgEvent = JSON.parse(events[1]!.payload);
      expect(Object.keys(msgEvent).sort()).toEqual(['conversation', 'message', 'type']);
      expect(msgEvent.type).toBe('message.created');
      // The short conversation form of seed 000: no contact, channels or messages.
      expect(Object.keys(msgEvent.conversation).sort()).toEqual(
        ['contactId', 'createdDatetime', 'id', 'lastReceivedDatetime', 'status', 'updatedDatetime']);
      expect(msgEvent.conversation).toMatchObject({
        id: conversation.id, contactId: conversation.contactId, status: 'active',
        createdDatetime: expect.stringMatching(ISO_DATETIME), updatedDatetime: expect.stringMatching(ISO_DATETIME),
        lastReceivedDatetime: conversation.lastReceivedDatetime,
      });
      for (const key of ['channelId', 'content', 'conversationId', 'createdDatetime', 'direction', 'id', 'status', 'type', 'updatedDatetime']) {
        expect(msgEvent.message).toHaveProperty(key);
      }
      expect(msgEvent.message).toMatchObject({
        id: message.id, channelId: sandbox.id, conversationId: conversation.id, direction: 'received', status: 'received',
        type: 'text', content: { text: 'Testing webhook functionality.' },
      });
      expect(msgEvent.message).toEqual((await api('GET', `/v1/messages/${message.id}`)).json);

      // An outbound reply: message.created, then one message.updated per status change.
      const reply = await api('POST', `/v1/conversations/${conversation.id}/messages`, { type: 'text', content: { text: 'thanks' } });
      expect(reply.status, reply.text).toBe(201);
      await waitForStatus(api, reply.json.id, 'delivered');
      events = await eventsOfConversation(roost, conversation.id);
      const replyEvents = events.slice(2).map((e) => JSON.parse(e.payload));
      expect(replyEvents.map((p) => [p.type, p.message?.id, p.message?.status])).toEqual([
        ['message.created', reply.json.id, 'accepted'],
        ['message.updated', reply.json.id, 'sent'],
        ['message.updated', reply.json.id, 'delivered'],
      ]);
      expect(replyEvents.every((p) => p.conversation.id === conversation.id)).toBe(true);
      expect(replyEvents[0].message).toMatchObject({ direction: 'sent', content: { text: 'thanks' } });

      // Archiving: conversation.updated carrying the new status.
      expect((await api('PATCH', `/v1/conversations/${conversation.id}`, { status: 'archived' })).status).toBe(200);
      events = await eventsOfConversation(roost, conversation.id);
      expect(events).toHaveLength(6);
      const updated = JSON.parse(events[5]!.payload);
      expect(events[5]!.type).toBe('conversation.updated');
      expect(updated).toEqual({ type: 'conversation.updated', conversation: expect.objectContaining({ id: conversation.id, status: 'archived' }) });
      expect(events.every((e) => e.conversation_id === conversation.id)).toBe(true);

      // Archiving again changes nothing and records nothing.
      expect((await api('PATCH', `/v1/conversations/${conversation.id}`, { status: 'archived' })).status).toBe(200);
      expect(await eventsOfConversation(roost, conversation.id)).toHaveLength(6);
    });
  });
});

describe('request limits and private URLs (ROOST_BODY_LIMIT_BYTES=2048, ROOST_ALLOW_PRIVATE_URLS=0)', () => {
  let roost: RoostProcess;
  let api: Api;
  let sandbox: ChannelView;

  beforeAll(async () => {
    roost = await startRoost({ env: { ROOST_BODY_LIMIT_BYTES: '2048', ROOST_ALLOW_PRIVATE_URLS: '0' } });
    api = apiClient(roost.url, roost.liveKey!);
    sandbox = await createSandboxChannel(api);
  });

  afterAll(async () => {
    await roost?.stop();
    if (roost) await removeDataDir(roost.dataDir);
  });

  it('answers a body over the limit with 413 and an errors body', async () => {
    const to = phone();
    const big = { from: sandbox.id, to, type: 'text', content: { text: 'x'.repeat(10 * 1024) } };
    const res = await api('POST', '/v1/send', big);
    expectError(res, 413);
    const inbound = await postInbound(sandbox.inboundUrl, { from: to, text: 'y'.repeat(10 * 1024) });
    expectError(inbound, 413);
    expect(await conversationsOf(api, to)).toHaveLength(0);
    // Just under the limit is fine.
    const small = await api('POST', '/v1/send', { ...big, content: { text: 'x'.repeat(1024) } });
    expect(small.status, small.text).toBe(202);
  });

  describe('compressed request bodies (Content-Encoding)', () => {
    const message = (to: string, text = 'squeezed') => Buffer.from(JSON.stringify({ from: sandbox.id, to, type: 'text', content: { text } }));

    it.each([
      ['gzip', gzipSync], ['x-gzip', gzipSync], ['deflate', deflateSync], ['br', brotliCompressSync], ['GZIP', gzipSync],
    ] as const)('reads a %s body as the JSON it encodes, on the API and on a provider webhook', async (coding, encode) => {
      const to = phone();
      const sent = await api('POST', '/v1/send', encode(message(to, `via ${coding}`)), { 'content-encoding': coding });
      expect(sent.status, sent.text).toBe(202);
      const inbound = await postInbound(sandbox.inboundUrl, encode(Buffer.from(JSON.stringify({ from: to, text: 'back' }))), { 'content-encoding': coding });
      expect(inbound.status, inbound.text).toBe(200);
      const [conversation] = await conversationsOf(api, to);
      const texts = (await listAll(api, `/v1/conversations/${conversation.id}/messages`)).map((m: Json) => m.content.text);
      expect(texts.sort()).toEqual(['back', `via ${coding}`].sort());
    });

    it('counts the decoded bytes against the limit: a small body that inflates past it is a 413, and nothing is stored', async () => {
      const to = phone();
      const bomb = gzipSync(message(to, 'x'.repeat(1_000_000)));
      expect(bomb.length).toBeLessThan(2048);
      expectError(await api('POST', '/v1/send', bomb, { 'content-encoding': 'gzip' }), 413);
      expect(await conversationsOf(api, to)).toHaveLength(0);
      // The connection and the server are fine after it.
      expect((await api('POST', '/v1/send', gzipSync(message(to)), { 'content-encoding': 'gzip' })).status).toBe(202);
    });

    it('answers a body that does not decode with 400, and an unknown coding with 415, both in the errors format', async () => {
      const to = phone();
      expectError(await api('POST', '/v1/send', message(to), { 'content-encoding': 'gzip' }), 400);
      expectError(await api('POST', '/v1/send', gzipSync(message(to)).subarray(0, 20), { 'content-encoding': 'gzip' }), 400);
      expectError(await api('POST', '/v1/send', message(to), { 'content-encoding': 'br' }), 400);
      expectError(await api('POST', '/v1/send', message(to), { 'content-encoding': 'compress' }), 415);
      expectError(await api('POST', '/v1/send', gzipSync(gzipSync(message(to))), { 'content-encoding': 'gzip, gzip' }), 415);
      expectError(await postInbound(sandbox.inboundUrl, Buffer.from('{"from":"+31612345678","text":"x"}'), { 'content-encoding': 'deflate' }), 400);
      expect(await conversationsOf(api, to)).toHaveLength(0);
      // identity is no coding at all, and a GET's header is ignored.
      expect((await api('POST', '/v1/send', message(to), { 'content-encoding': 'identity' })).status).toBe(202);
      expect((await api('GET', '/v1/conversations', undefined, { 'content-encoding': 'gzip' })).status).toBe(200);
    });

    it('reads an empty chunked body with a coding as an empty body, as it does one of Content-Length 0', async () => {
      const empty = (framing: Record<string, string>) => new Promise<{ status: number; body: string }>((resolve, reject) => {
        const u = new URL(`${roost.url}/v1/webhooks`);
        const req = request({
          host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false,
          headers: { authorization: `AccessKey ${roost.liveKey}`, 'content-type': 'application/json', 'content-encoding': 'gzip', ...framing },
        }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
      const chunked = await empty({ 'transfer-encoding': 'chunked' });
      const zero = await empty({ 'content-length': '0' });
      expect(zero.status).toBe(422); // no attributes: events is missing
      expect(chunked).toEqual(zero);
    });
  });

  it('refuses webhook URLs that are plain http or private with 422 code 10 on url', async () => {
    for (const url of ['http://127.0.0.1/x', 'https://10.0.0.1/x', 'https://127.0.0.1:8443/x', 'https://192.168.1.10/x', 'https://169.254.169.254/latest', 'https://[::1]/x', 'https://localhost/x', 'http://example.com/x']) {
      expectError(await api('POST', '/v1/webhooks', hook({ url })), 422, 10, 'url');
    }
    const ok = await api('POST', '/v1/webhooks', hook({ url: 'https://example.com/public' }));
    expect(ok.status, ok.text).toBe(201);
    expectError(await api('PATCH', `/v1/webhooks/${ok.json.id}`, { url: 'https://10.0.0.1/x' }), 422, 10, 'url');
    expect((await api('GET', `/v1/webhooks/${ok.json.id}`)).json.url).toBe('https://example.com/public');
    expect((await api('GET', '/v1/webhooks')).json.totalCount).toBe(1);
  });

  it('refuses a provider baseUrl on a private address with 422 code 10 on settings.baseUrl, on create and on update', async () => {
    const settings = (baseUrl: string) => ({
      apiKeyId: 'k', apiSecretKey: 's', fromNumber: '+15122164639', signingSecret: 'sig', baseUrl,
    });
    for (const baseUrl of ['http://127.0.0.1:9/api', 'https://10.0.0.1', 'https://[::1]', 'https://localhost/x']) {
      expectError(await api('POST', '/v1/channels', { platformId: 'sendblue', settings: settings(baseUrl) }), 422, 10, 'settings.baseUrl');
    }
    const ok = await api('POST', '/v1/channels', { platformId: 'sendblue', settings: settings('https://api.sendblue.co') });
    expect(ok.status, ok.text).toBe(201);
    expectError(await api('PATCH', `/v1/channels/${ok.json.id}`, { settings: { baseUrl: 'http://192.168.1.10' } }), 422, 10, 'settings.baseUrl');
    // A change that leaves the settings alone is not checked again.
    expect((await api('PATCH', `/v1/channels/${ok.json.id}`, { name: 'renamed' })).status).toBe(200);
  });
});

describe('configuration', () => {
  /**
   * `roost serve` with one bad setting, on a database of the suite's engine that holds
   * nothing yet (SQLite: a file that does not exist; PostgreSQL: an empty database).
   * `dbCreated`: whether the process created anything there before refusing to start.
   */
  const run = async (env: Record<string, string>) => {
    const cwd = mkdtempSync(join(tmpdir(), 'roost-config-'));
    const dbPath = join(cwd, 'db', 'roost.db');
    const pgDb = TEST_ENGINE === 'postgres' ? await createTestDatabase('roost_config') : undefined;
    try {
      const r = spawnSync(process.execPath, [BIN, 'serve'], {
        cwd,
        env: { PATH: process.env.PATH ?? '', ROOST_PORT: '0', ROOST_DATABASE_URL: pgDb?.url ?? `sqlite:${dbPath}`, ...env },
        encoding: 'utf8',
        timeout: 10_000,
      });
      const dbCreated = pgDb
        ? (await countRows(pgDb.url, 'information_schema.tables', 'table_schema', 'public')) > 0
        : existsSync(dbPath);
      return { ...r, output: `${r.stdout}${r.stderr}`, dbCreated };
    } finally {
      await removeDataDir(cwd);
      await pgDb?.drop();
    }
  };

  it.each([
    ['ROOST_PORT', { ROOST_PORT: 'abc' }],
    ['ROOST_DATABASE_URL', { ROOST_DATABASE_URL: 'mysql://x' }],
    ['ROOST_TEST_ACCESS_KEY', { ROOST_TEST_ACCESS_KEY: 'nope' }],
    ['ROOST_ACCESS_KEY', { ROOST_ACCESS_KEY: 'test_looksLikeATestKey0000' }],
    ['ROOST_ALLOW_PRIVATE_URLS', { ROOST_ALLOW_PRIVATE_URLS: 'maybe' }],
  ])('exits with status 2 and names %s when it is invalid', async (name, env) => {
    const r = await run(env);
    expect(r.signal, `roost did not exit: ${r.output}`).toBeNull();
    expect(r.status, r.output).toBe(2);
    expect(r.output).toContain(name);
    expect(r.output).not.toContain('roost listening');
    expect(r.dbCreated).toBe(false);
  });
});

describe('configured access keys', () => {
  it('accepts exactly the configured keys, also after a restart with different ones', async () => {
    const first = await startRoost();
    const dataDir = first.dataDir;
    const generated = [first.liveKey!, first.testKey!];
    try {
      expect(generated.every((k) => typeof k === 'string')).toBe(true);
      const ch = await createSandboxChannel(apiClient(first.url, first.liveKey!), {}, 'kept');
      expect(await first.stop()).toBe(0);

      const keysA = { ROOST_ACCESS_KEY: 'live_configuredKeyA000000001', ROOST_TEST_ACCESS_KEY: 'test_configuredKeyA00000001' };
      const a = await startRoost({ dataDir, env: keysA });
      try {
        expect(a.liveKey).toBeUndefined();
        expect(a.testKey).toBeUndefined();
        expect(a.output()).not.toMatch(/access key:/);
        for (const k of Object.values(keysA)) expect(a.output()).not.toContain(k);
        for (const k of Object.values(keysA)) expect((await apiClient(a.url, k)('GET', '/v1/conversations')).status).toBe(200);
        for (const k of generated) expect((await apiClient(a.url, k)('GET', '/v1/conversations')).status).toBe(401);
        // Same workspace, same data.
        expect((await apiClient(a.url, keysA.ROOST_ACCESS_KEY)('GET', `/v1/channels/${ch.id}`)).json.name).toBe('kept');
      } finally {
        expect(await a.stop()).toBe(0);
      }

      const keysB = { ROOST_ACCESS_KEY: 'live_configuredKeyB000000002', ROOST_TEST_ACCESS_KEY: 'test_configuredKeyB00000002' };
      const b = await startRoost({ dataDir, env: keysB });
      try {
        expect(b.output()).not.toMatch(/access key:/);
        for (const k of Object.values(keysB)) expect((await apiClient(b.url, k)('GET', '/v1/conversations')).status).toBe(200);
        for (const k of [...Object.values(keysA), ...generated]) {
          const res = await apiClient(b.url, k)('GET', '/v1/conversations');
          expectError(res, 401, 2, 'access_key');
        }
        expect((await apiClient(b.url, keysB.ROOST_TEST_ACCESS_KEY)('GET', `/v1/channels/${ch.id}`)).status).toBe(200);
      } finally {
        expect(await b.stop()).toBe(0);
      }
    } finally {
      await removeDataDir(dataDir);
    }
  });

  it('prints no generated access keys on a first start with configured keys', async () => {
    const r = await startRoost({ env: { ROOST_ACCESS_KEY: 'live_configuredKeyC000000003' } });
    try {
      expect(r.liveKey).toBeUndefined();
      expect(r.testKey).toBeUndefined();
      expect(r.output()).not.toMatch(/(live|test)_[A-Za-z0-9]{32}/);
      expect((await apiClient(r.url, 'live_configuredKeyC000000003')('GET', '/v1/channels')).status).toBe(200);
    } finally {
      await r.stop();
      await removeDataDir(r.dataDir);
    }
  });
});

describe('graceful shutdown', () => {
  interface SlowPost {
    connected: Promise<void>;
    finish(): void;
    result: Promise<{ status: number; body: string } | { error: string }>;
  }

  /** A POST whose headers and first half of the body go out now, and the rest on finish(). */
  function slowPost(url: string, body: string): SlowPost {
    const u = new URL(url);
    const req = request({
      host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const result = new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', (e) => resolve({ error: String(e) }));
      });
      req.on('error', (e) => resolve({ error: String(e) }));
    });
    const connected = new Promise<void>((resolve) => req.on('socket', (s) => s.once('connect', () => resolve())));
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half));
    return { connected, finish: () => req.end(body.slice(half)), result };
  }

  it('answers a request that arrives on a kept-alive connection while it closes with 503 code 100, and closes that connection', async () => {
    const roost = await startRoost();
    try {
      const socket = connect(roost.port, '127.0.0.1');
      let got = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (got += d));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
      // A request in flight keeps the connection busy (and the shutdown waiting for it) ...
      const body = JSON.stringify({ from: phone(), text: 'x' });
      socket.write(`POST /v1/send HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 3)}`);
      await sleep(200);
      const exited = roost.stop();
      await sleep(300);
      // ... then ends, with the next request right behind it on the same connection.
      socket.write(`${body.slice(3)}GET /v1/conversations HTTP/1.1\r\nhost: x\r\nauthorization: AccessKey ${roost.liveKey}\r\n\r\n`);
      await closed;
      const second = got.slice(got.indexOf('HTTP/1.1', 1));
      expect(got).toMatch(/^HTTP\/1\.1 401 /); // the first was answered as usual (no key)
      expect(second).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
      expect(second).toMatch(/\r\nconnection: close\r\n/i);
      expect(JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4))).toEqual({ errors: [{ code: 100, description: expect.any(String), parameter: null }] });
      expect(await exited).toBe(0);
    } finally {
      await roost.kill();
      await removeDataDir(roost.dataDir);
    }
  });

  it('finishes in-flight inbound webhooks on SIGTERM, exits 0 and loses nothing it acknowledged', async () => {
    const roost = await startRoost();
    const key = roost.liveKey!;
    const dataDir = roost.dataDir;
    try {
      const api = apiClient(roost.url, key);
      const channel = await createSandboxChannel(api);
      const from = phone();
      const texts = Array.from({ length: 50 }, (_, i) => `in flight ${i}`);

      const posts = texts.map((text, i) => slowPost(channel.inboundUrl, JSON.stringify({ from, text, id: `shutdown-${i}` })));
      await Promise.all(posts.map((p) => p.connected));
      await sleep(150); // the server has read every request's headers

      const exited = roost.stop(); // SIGTERM
      await sleep(100);
      // Requests that arrive after the signal may be refused, but must not be half-handled.
      const late = Array.from({ length: 5 }, (_, i) =>
        postInbound(channel.inboundUrl, { from, text: `late ${i}`, id: `late-${i}` }).then((r) => r.status, () => 0));
      for (const p of posts) p.finish();

      const results = await Promise.all(posts.map((p) => p.result));
      const lateStatuses = await Promise.all(late);
      expect(await exited).toBe(0);

      const acknowledged = texts.filter((_, i) => {
        const r = results[i]!;
        return 'status' in r && r.status >= 200 && r.status < 300;
      });
      const lateAcknowledged = lateStatuses.flatMap((s, i) => (s >= 200 && s < 300 ? [`late ${i}`] : []));
      // Every request was in flight when the signal came: a graceful stop lets each finish.
      expect(acknowledged.length, JSON.stringify(results)).toBe(50);

      const again = await startRoost({ dataDir });
      try {
        const api2 = apiClient(again.url, key);
        const convs = await conversationsOf(api2, from);
        expect(convs).toHaveLength(1);
        const msgs = await messagesOf(api2, convs[0].id);
        const stored: string[] = msgs.items.map((m: Json) => m.content.text);
        for (const t of [...acknowledged, ...lateAcknowledged]) expect(stored).toContain(t);
        expect(new Set(stored).size).toBe(stored.length);
        expect(msgs.totalCount).toBe(stored.length);
      } finally {
        expect(await again.stop()).toBe(0);
      }
    } finally {
      await roost.kill();
      await removeDataDir(dataDir);
    }
  });
  it('lets an in-flight provider send finish and records it before exiting', async () => {
    const fake = await startFakeSendblue();
    let release: () => void = () => {};
    const released = new Promise<void>((r) => (release = r));
    fake.respondWith(async (req) => {
      await released; // Sendblue is slow to answer
      return { status: 200, json: messageResponse(req.body) };
    });
    const roost = await startRoost();
    const key = roost.liveKey!;
    const dataDir = roost.dataDir;
    try {
      const api = apiClient(roost.url, key);
      const sb = await createSendblueChannel(api, fake);
      const to = phone();
      const res = await api('POST', '/v1/send', { from: sb.id, to, type: 'text', content: { text: 'slow provider' } });
      expect(res.status, res.text).toBe(202);
      await eventually(async () => fake.requests.length === 1);

      const exited = roost.stop(); // SIGTERM while the send is in flight
      await sleep(200);
      release();
      expect(await exited).toBe(0);
      // Recorded before exit: handed off with its provider id, no send job left to repeat it.
      const row = {
        message: (await queryOne<{ status: string; p: string | null }>(roost, 'SELECT status, provider_message_id AS p FROM messages WHERE id = ?', [res.json.id]))!,
        jobs: await countRows(roost, 'send_jobs', 'message_id', res.json.id),
      };
      expect(row.message.status).toBe('pending');
      expect(row.message.p).toEqual(expect.any(String));
      expect(row.jobs).toBe(0);

      const again = await startRoost({ dataDir });
      try {
        await sleep(300);
        expect((await apiClient(again.url, key)('GET', `/v1/messages/${res.json.id}`)).json.status).toBe('pending');
        expect(fake.requests).toHaveLength(1);
      } finally {
        await again.stop();
      }
    } finally {
      release();
      await roost.kill();
      await fake.close();
      await removeDataDir(dataDir);
    }
  });
});
