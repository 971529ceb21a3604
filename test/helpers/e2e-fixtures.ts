import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { messageResponse } from './fake-sendblue.js';
import type { FakeResponse, FakeSendblue, RecordedRequest, Responder } from './fake-sendblue.js';
import { eventually } from './roost-process.js';
import type { RoostProcess, apiClient } from './roost-process.js';

/** Helpers shared by the end-to-end suites. Everything here talks to the real process over HTTP or reads its database file. */

export const BIN = resolve(import.meta.dirname, '../../bin/roost.js');

export type Api = ReturnType<typeof apiClient>;
export type ApiResponse = Awaited<ReturnType<Api>>;
/** A parsed JSON answer, as loosely typed as apiClient's. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/**
 * Unique, valid E.164 mobile numbers (+316 + 8 digits, Dutch mobile range) for one test
 * file: a random block per factory so that files sharing nothing still never collide.
 */
export function phoneFactory(): () => string {
  const block = randomInt(100, 999);
  let n = 0;
  return () => `+316${block}${String(++n).padStart(5, '0')}`;
}

/** The MSISDN MessageBird puts in `contact.msisdn`: the E.164 digits as a JSON number. */
export const msisdnOf = (e164: string): number => Number(e164.replace(/^\+/, ''));

/** A well-formed id (32 lower-case hex digits) that names nothing. */
export const unknownId = (): string => randomBytes(16).toString('hex');

export const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Asserts a MessageBird error answer: the status, JSON `{"errors":[{code, description, parameter}]}`. */
export function expectError(res: ApiResponse, status: number, code?: number, parameter?: string | null): void {
  expect(res.status, `expected ${status}, got ${res.status}: ${res.text}`).toBe(status);
  expect(res.headers.get('content-type') ?? '').toMatch(/application\/json/);
  expect(res.json, `error body is not JSON: ${JSON.stringify(res.text)}`).toBeTypeOf('object');
  expect(Array.isArray(res.json.errors)).toBe(true);
  expect(res.json.errors.length).toBeGreaterThan(0);
  const [first] = res.json.errors;
  expect(first.code).toBeTypeOf('number');
  expect(first.description).toBeTypeOf('string');
  expect(first.description.length).toBeGreaterThan(0);
  if (code !== undefined) expect(first.code).toBe(code);
  if (parameter !== undefined) expect(first.parameter).toBe(parameter);
}

/** POSTs (or sends any method) to an inbound URL; the raw answer plus its parsed JSON. */
export async function postInbound(
  url: string, body: unknown, headers: Record<string, string> = {}, method = 'POST',
): Promise<ApiResponse> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  // Same shape as apiClient's answers so expectError works on both.
  return { status: res.status, headers: res.headers, text, json: json as ApiResponse['json'] };
}

export interface ChannelView {
  id: string;
  name: string;
  platformId: string;
  status: string;
  settings: Record<string, unknown>;
  inboundUrl: string;
  createdDatetime: string;
  updatedDatetime: string | null;
}

export async function createChannel(api: Api, body: Record<string, unknown>): Promise<ChannelView> {
  const res = await api('POST', '/v1/channels', body);
  expect(res.status, res.text).toBe(201);
  return res.json as ChannelView;
}

export const createSandboxChannel = (api: Api, settings: Record<string, unknown> = {}, name = 'sandbox') =>
  createChannel(api, { name, platformId: 'sandbox', settings });

export interface SendblueChannelOptions {
  name?: string;
  apiKeyId?: string;
  apiSecretKey?: string;
  fromNumber?: string;
  signingSecret?: string;
}

export const createSendblueChannel = (api: Api, fake: FakeSendblue, o: SendblueChannelOptions = {}) =>
  createChannel(api, {
    name: o.name ?? 'imessage',
    platformId: 'sendblue',
    settings: {
      apiKeyId: o.apiKeyId ?? 'sb-key-id-0001',
      apiSecretKey: o.apiSecretKey ?? 'sb-secret-key-0001',
      fromNumber: o.fromNumber ?? '+15122164639',
      signingSecret: o.signingSecret ?? 'sb-signing-secret-0001',
      baseUrl: fake.url,
    },
  });

/** Every item of a v1 list, following offset pagination. */
export async function listAll(api: Api, path: string): Promise<Json[]> {
  const items: Json[] = [];
  for (let offset = 0; ; offset += 100) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await api('GET', `${path}${sep}limit=100&offset=${offset}`);
    expect(res.status, res.text).toBe(200);
    items.push(...(res.json.items as Json[]));
    if (res.json.items.length < 100) return items;
  }
}

/** The conversations whose contact has this phone number, newest first. */
export async function conversationsOf(api: Api, e164: string): Promise<Json[]> {
  const all = await listAll(api, '/v1/conversations');
  return all.filter((c: Json) => c.contact?.msisdn === msisdnOf(e164));
}

export async function totalConversations(api: Api): Promise<number> {
  const res = await api('GET', '/v1/conversations?limit=1');
  expect(res.status, res.text).toBe(200);
  return res.json.totalCount as number;
}

export async function messagesOf(api: Api, conversationId: string): Promise<Json> {
  const res = await api('GET', `/v1/conversations/${conversationId}/messages?limit=100`);
  expect(res.status, res.text).toBe(200);
  return res.json;
}

/** Polls GET /v1/messages/{id} until the message has `status`; returns it. */
export async function waitForStatus(api: Api, messageId: string, status: string, timeoutMs = 5_000): Promise<Json> {
  let last = '';
  try {
    return await eventually(async () => {
      const res = await api('GET', `/v1/messages/${messageId}`);
      last = res.text;
      return res.status === 200 && res.json.status === status ? res.json : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`message ${messageId} did not reach ${status}; last answer ${last}`, { cause: err });
  }
}

export interface WorkspaceKeys {
  id: string;
  name: string;
  liveKey: string;
  testKey: string;
  signingKey: string;
}

/** `roost workspace create --name N` against the running server's database file. */
export function createWorkspace(roost: RoostProcess, name: string): WorkspaceKeys {
  const out = execFileSync(process.execPath, [BIN, 'workspace', 'create', '--name', name], {
    env: { PATH: process.env.PATH ?? '', ROOST_DATABASE_URL: `sqlite:${roost.dbPath}`, ROOST_LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 15_000,
  });
  const parsed = JSON.parse(out) as WorkspaceKeys;
  expect(parsed).toMatchObject({ name, liveKey: expect.any(String), testKey: expect.any(String), signingKey: expect.any(String) });
  return parsed;
}

/** Runs `fn` with a read-only handle on the server's SQLite file. */
export function withDb<T>(dbPath: string, fn: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export interface StoredEvent {
  type: string;
  conversation_id: string;
  payload: string;
}

export function eventsOfConversation(dbPath: string, conversationId: string): StoredEvent[] {
  return withDb(dbPath, (db) =>
    db.prepare('SELECT type, conversation_id, payload FROM events WHERE conversation_id = ? ORDER BY id').all(conversationId) as StoredEvent[]);
}

export function countEvents(dbPath: string): number {
  return withDb(dbPath, (db) => (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n);
}

/** The statuses carried by `message.updated` events about one message, in commit order. */
export function updatedStatusesOf(dbPath: string, conversationId: string, messageId: string): string[] {
  return eventsOfConversation(dbPath, conversationId)
    .filter((e) => e.type === 'message.updated')
    .map((e) => JSON.parse(e.payload) as { message: { id: string; status: string } })
    .filter((p) => p.message.id === messageId)
    .map((p) => p.message.status);
}

/**
 * Scripts the fake Sendblue per recipient: queued answers for a number are used first,
 * then the default success answer, whose message_handle is remembered per number.
 */
export interface SendblueScript {
  /** Answers (or responders, called with the request) for the next sends to `number`. */
  queue(number: string, ...answers: Array<FakeResponse | Responder>): void;
  handles(number: string): string[];
  requestsTo(number: string): RecordedRequest[];
}

export function scriptSendblue(fake: FakeSendblue): SendblueScript {
  const queues = new Map<string, Array<FakeResponse | Responder>>();
  const handles = new Map<string, string[]>();
  const numberOf = (req: RecordedRequest) =>
    typeof req.body === 'object' && req.body !== null ? String((req.body as Record<string, unknown>).number ?? '') : '';
  fake.respondWith((req) => {
    if (req.method !== 'POST' || req.path !== '/api/send-message') {
      return { status: 404, json: { status: 'ERROR', message: `no route ${req.method} ${req.path}` } };
    }
    const number = numberOf(req);
    const queued = queues.get(number)?.shift();
    if (typeof queued === 'function') return queued(req);
    if (queued) return queued;
    const json = messageResponse(req.body);
    const list = handles.get(number) ?? [];
    list.push(String(json.message_handle));
    handles.set(number, list);
    return { status: 200, json };
  });
  return {
    queue(number, ...answers) {
      queues.set(number, [...(queues.get(number) ?? []), ...answers]);
    },
    handles: (number) => handles.get(number) ?? [],
    requestsTo: (number) => fake.requests.filter((r) => r.path === '/api/send-message' && numberOf(r) === number),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
