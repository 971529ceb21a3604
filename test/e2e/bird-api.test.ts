import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationsOf, createSandboxChannel, createWorkspace, listAll, phoneFactory, postInbound } from '../helpers/e2e-fixtures.js';
import type { Api, ChannelView, Json } from '../helpers/e2e-fixtures.js';
import { apiClient, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';

/** Bird's Conversations API, seed 003: GET /workspaces/{workspaceId}/conversations/{conversationId}/messages. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const dashed = (id: string) => `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;

describe('Bird Conversations API: conversation messages (end to end)', () => {
  let roost: RoostProcess;
  let api: Api;
  let sandbox: ChannelView;
  const phone = phoneFactory();

  beforeAll(async () => {
    // The sandbox's simulated steps (accepted → sent → delivered) held back past the test:
    // a sent message's status stays what it was when it was made.
    roost = await startRoost({ env: { ROOST_SIMULATED_STEP_MS: '60000' } });
    api = apiClient(roost.url, roost.liveKey!);
    sandbox = await createSandboxChannel(api);
  });

  afterAll(async () => {
    await roost?.stop();
    if (roost) await removeDataDir(roost.dataDir);
  });

  const birdPath = (conversationId: string, query = '') =>
    `/workspaces/${roost.workspaceId}/conversations/${conversationId}/messages${query}`;

  /** A contact writes `n` messages; returns its conversation (v1 view). */
  async function conversationWith(n: number, from = phone()): Promise<Json> {
    for (let i = 0; i < n; i++) {
      const res = await postInbound(sandbox.inboundUrl, { from, text: `in ${i}` });
      expect(res.status, res.text).toBe(200);
    }
    const [conversation] = await conversationsOf(api, from);
    return conversation;
  }

  /** Every page of a listing, following nextPageToken. */
  async function walk(conversationId: string, query: string, between: () => Promise<void> = async () => {}): Promise<Json[][]> {
    const pages: Json[][] = [];
    let token: string | undefined;
    do {
      const res = await api('GET', birdPath(conversationId, `${query}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`));
      expect(res.status, res.text).toBe(200);
      pages.push(res.json.results);
      token = res.json.nextPageToken;
      if (token !== undefined) expect(typeof token).toBe('string');
      await between();
    } while (token !== undefined);
    return pages;
  }

  it('lists a conversation\'s messages newest first in Bird\'s message shape, received and sent alike', async () => {
    const from = phone();
    const conversation = await conversationWith(2, from);
    const reply = await api('POST', `/v1/conversations/${conversation.id}/messages`, { type: 'text', content: { text: 'hello back' } });
    expect(reply.status, reply.text).toBe(201);
    const v1 = await listAll(api, `/v1/conversations/${conversation.id}/messages`);

    const res = await api('GET', birdPath(dashed(conversation.id)));
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(Object.keys(res.json)).toEqual(['results']); // one page: no nextPageToken
    const results: Json[] = res.json.results;
    expect(results.map((m) => m.id)).toEqual(v1.map((m) => dashed(m.id)));

    const [sent, received] = [results[0], results[2]];
    for (const m of results) {
      expect(m.id).toMatch(UUID);
      expect(m.conversationId).toBe(dashed(conversation.id));
      expect(m.draft).toBe(false);
      expect(m.interactions).toBeNull();
      expect(m.createdAt).toMatch(ISO_MS);
      expect(m.updatedAt).toMatch(ISO_MS);
    }
    expect(received).toMatchObject({
      reference: '',
      sender: {
        id: dashed(conversation.contact.id), type: 'contact', status: 'active', avatarUrl: '',
        contact: { identifierKey: 'phonenumber', identifierValue: from, platformAddress: from },
      },
      status: 'delivered',
      source: 'channels',
      body: { type: 'text', text: { text: 'in 0' } },
    });
    expect(received.recipients).toBeUndefined();
    expect(sent).toMatchObject({
      sender: { type: 'accessKey', status: 'active' },
      recipients: [{ type: 'to', id: dashed(conversation.contact.id), identifierKey: 'phonenumber', identifierValue: from }],
      source: 'conversations',
      body: { type: 'text', text: { text: 'hello back' } },
    });
    expect(sent.status).toBe('accepted');

    // One message by id, in either id spelling.
    for (const id of [sent.id, sent.id.replaceAll('-', '')]) {
      const one = await api('GET', `${birdPath(conversation.id)}/${id}`);
      expect(one.status, one.text).toBe(200);
      expect(one.json).toEqual(sent);
    }
  });

  it('pages with limit and nextPageToken, both ways, with no message repeated or missed while new ones arrive', async () => {
    const from = phone();
    const conversation = await conversationWith(23, from);
    const all = (await listAll(api, `/v1/conversations/${conversation.id}/messages`)).map((m) => dashed(m.id));
    expect(all).toHaveLength(23);

    const pages = await walk(conversation.id, '?limit=10');
    expect(pages.map((p) => p.length)).toEqual([10, 10, 3]);
    expect(pages.flat().map((m) => m.id)).toEqual(all);
    // The default page is 10; reverse=true is oldest first.
    expect((await walk(conversation.id, '?')).map((p) => p.length)).toEqual([10, 10, 3]);
    const oldestFirst = await walk(conversation.id, '?limit=7&reverse=true');
    expect(oldestFirst.flat().map((m) => m.id)).toEqual([...all].reverse());

    // New messages while a client pages: newest first never shows them (they are above
    // where it started) and never repeats one; oldest first meets them at the end.
    let n = 0;
    const arrive = async () => {
      await postInbound(sandbox.inboundUrl, { from, text: `late ${n++}` });
    };
    expect((await walk(conversation.id, '?limit=5', arrive)).flat().map((m) => m.id)).toEqual(all);
    const forward = (await walk(conversation.id, '?limit=10&reverse=true', arrive)).flat();
    expect(forward.slice(0, 23).map((m) => m.id)).toEqual([...all].reverse());
    expect(forward.slice(23).map((m) => m.body.text.text)).toEqual(Array.from({ length: forward.length - 23 }, (_, i) => `late ${i}`));
    expect(new Set(forward.map((m) => m.id)).size).toBe(forward.length);
  });

  it('answers bad parameters, unknown ids, another workspace and a bad key in Bird\'s error body', async () => {
    const conversation = await conversationWith(3);
    const invalidPayload = (res: Json, field: string) => {
      expect(res.status, res.text).toBe(422);
      expect(res.json).toEqual({ code: 'InvalidPayload', message: expect.any(String), details: { [field]: [expect.any(String)] } });
    };
    for (const limit of ['0', '101', 'abc', '1.5', '-1']) invalidPayload(await api('GET', birdPath(conversation.id, `?limit=${limit}`)), 'limit');
    invalidPayload(await api('GET', birdPath(conversation.id, '?reverse=maybe')), 'reverse');
    // A position past 32 bits was never given (and PostgreSQL's positions cannot hold it).
    const past = Buffer.from(JSON.stringify([conversation.id, 'desc', 2_147_483_648])).toString('base64url');
    for (const token of ['garbage', Buffer.from('[1,2]').toString('base64url'), 'x'.repeat(8001), past]) {
      invalidPayload(await api('GET', birdPath(conversation.id, `?pageToken=${token}`)), 'pageToken');
    }
    // A token belongs to its list: not to the other order, nor to another conversation.
    const first = await api('GET', birdPath(conversation.id, '?limit=1'));
    const token = encodeURIComponent(first.json.nextPageToken);
    invalidPayload(await api('GET', birdPath(conversation.id, `?limit=1&reverse=true&pageToken=${token}`)), 'pageToken');
    const other = await conversationWith(2);
    invalidPayload(await api('GET', birdPath(other.id, `?limit=1&pageToken=${token}`)), 'pageToken');

    const notFound = (res: Json) => {
      expect(res.status, res.text).toBe(404);
      expect(res.json).toEqual({ code: 'NotFound', message: expect.any(String) });
    };
    notFound(await api('GET', birdPath('0f8fad5b-d9cb-469f-a165-70867728950e')));
    notFound(await api('GET', birdPath('not-an-id')));
    notFound(await api('GET', `${birdPath(conversation.id)}/0f8fad5b-d9cb-469f-a165-70867728950e`));
    const otherMessage = (await api('GET', birdPath(other.id))).json.results[0].id;
    notFound(await api('GET', `${birdPath(conversation.id)}/${otherMessage}`));
    notFound(await api('GET', `/workspaces/${roost.workspaceId}/nope`));
    // What is answered before any route runs is in Bird's body too under /workspaces.
    notFound(await api('GET', birdPath('a'.repeat(120))));
    const badUrl = await api('GET', birdPath('%ZZ'));
    expect(badUrl.status).toBe(400);
    expect(badUrl.json).toEqual({ code: 'BadRequest', message: expect.any(String) });
    for (const method of ['POST', 'DELETE', 'PATCH']) {
      const res = await api(method, birdPath(conversation.id), method === 'DELETE' ? undefined : {});
      expect(res.status, `${method}: ${res.text}`).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(res.json).toEqual({ code: 'MethodNotAllowed', message: expect.any(String) });
    }

    // Another workspace's id in the path: 403, whatever the key; its key on this path too.
    const forbidden = await api('GET', `/workspaces/0f8fad5b-d9cb-469f-a165-70867728950e/conversations/${conversation.id}/messages`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.json).toEqual({ code: 'Forbidden', message: 'User has no access to the requested resource' });
    const stranger = await createWorkspace(roost, 'stranger');
    const strangerApi = apiClient(roost.url, stranger.liveKey);
    expect((await strangerApi('GET', birdPath(conversation.id))).status).toBe(403);
    expect((await strangerApi('GET', `/workspaces/${stranger.id}/conversations/${conversation.id}/messages`)).status).toBe(404);

    for (const authorization of ['', 'AccessKey wrong', 'Basic abc']) {
      const res = await api('GET', birdPath(conversation.id), undefined, { authorization });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ code: 'Unauthorized', message: expect.any(String) });
    }
    // Bird's samples also send the key as a bearer token; the workspace id may be undashed.
    const bearer = await api('GET', birdPath(conversation.id), undefined, { authorization: `Bearer ${roost.liveKey}` });
    expect(bearer.status, bearer.text).toBe(200);
    const undashed = await api('GET', `/workspaces/${roost.workspaceId.replaceAll('-', '')}/conversations/${conversation.id}/messages`);
    expect(undashed.json).toEqual(bearer.json);
  });
});
