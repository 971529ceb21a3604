import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { expect } from 'vitest';
import { messageResponse } from './fake-sendblue.js';
import type { FakeResponse, FakeSendblue, RecordedRequest, Responder } from './fake-sendblue.js';
import { eventually, requestBody } from './roost-process.js';
import type { RoostProcess, apiClient } from './roost-process.js';

/**
 * Helpers shared by the end-to-end suites. Everything here talks to the real process over
 * HTTP or reads its database (SQLite or PostgreSQL, whichever the suite runs on).
 */

const execFileAsync = promisify(execFile);

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
    body: method === 'GET' ? undefined : requestBody(body),
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

// ---------------------------------------------------------------------------------------
// The server's database, on either engine. Every helper takes the RoostProcess (or just its
// ROOST_DATABASE_URL), so the same test reads SQLite in e2e-sqlite and PostgreSQL in
// e2e-postgres.

/** Where the server keeps its data: a RoostProcess, or its ROOST_DATABASE_URL. */
export type DbTarget = Pick<RoostProcess, 'databaseUrl'> | string;

const databaseUrlOf = (target: DbTarget): string => (typeof target === 'string' ? target : target.databaseUrl);

/** The file of a `sqlite:` URL, read as Roost's config reads it (`sqlite:///abs` too). */
function sqlitePathOf(url: string): string {
  return resolve(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''));
}

/** `?` placeholders as PostgreSQL's `$1..$n` (a `?` inside a quoted literal or identifier is kept). */
export function toPostgresPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (m) => (m === '?' ? `$${++n}` : m));
}

/** BIGINT (epoch ms, counts) as JS numbers on PostgreSQL too, as Roost's own store reads them. */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * Runs one read-only query against the server's database and returns its rows. Write the
 * SQL with `?` placeholders; on PostgreSQL they become `$1..$n`, and BIGINT values
 * (count(*) included) come back as numbers, as on SQLite. SQLite is opened read-only per
 * call; PostgreSQL gets one short-lived connection per call, so nothing outlives the
 * query (the throwaway database can be dropped at any time).
 */
export async function queryDb<T = Record<string, unknown>>(target: DbTarget, sql: string, params: unknown[] = []): Promise<T[]> {
  const url = databaseUrlOf(target);
  if (url.startsWith('sqlite:')) {
    const db = new Database(sqlitePathOf(url), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`queryDb: unsupported database URL ${url}`);
  const client = new pg.Client({ connectionString: url, types: pgTypes });
  await client.connect();
  try {
    return (await client.query(toPostgresPlaceholders(sql), params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The first row of a query, or undefined. */
export async function queryOne<T = Record<string, unknown>>(target: DbTarget, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return (await queryDb<T>(target, sql, params))[0];
}

/** `SELECT count(*)` of `table`, optionally only the rows whose `column` equals `value`. */
export async function countRows(target: DbTarget, table: string, column?: string, value?: unknown): Promise<number> {
  const where = column === undefined ? '' : ` WHERE ${column} = ?`;
  const row = await queryOne<{ n: number | string }>(target, `SELECT count(*) AS n FROM ${table}${where}`, column === undefined ? [] : [value]);
  return Number(row?.n ?? 0);
}

export interface StoredEvent {
  type: string;
  conversation_id: string;
  payload: string;
}

/** The committed events of one conversation, in commit order. */
export function eventsOfConversation(target: DbTarget, conversationId: string): Promise<StoredEvent[]> {
  return queryDb<StoredEvent>(target, 'SELECT type, conversation_id, payload FROM events WHERE conversation_id = ? ORDER BY id', [conversationId]);
}

/** Every committed event, of every workspace. */
export const countEvents = (target: DbTarget): Promise<number> => countRows(target, 'events');

/** The statuses carried by `message.updated` events about one message, in commit order. */
export async function updatedStatusesOf(target: DbTarget, conversationId: string, messageId: string): Promise<string[]> {
  return (await eventsOfConversation(target, conversationId))
    .filter((e) => e.type === 'message.updated')
    .map((e) => JSON.parse(e.payload) as { message: { id: string; status: string } })
    .filter((p) => p.message.id === messageId)
    .map((p) => p.message.status);
}

/** The provider's id stored for a message: null before the hand-off, undefined when there is no such message. */
export async function providerIdOf(target: DbTarget, messageId: string): Promise<string | null | undefined> {
  return (await queryOne<{ p: string | null }>(target, 'SELECT provider_message_id AS p FROM messages WHERE id = ?', [messageId]))?.p;
}

/** True once the send worker has recorded the outcome of a message's send (its job is gone). */
export async function sendJobDone(target: DbTarget, messageId: string): Promise<boolean> {
  return (await countRows(target, 'send_jobs', 'message_id', messageId)) === 0;
}

export interface WorkspaceKeys {
  id: string;
  name: string;
  liveKey: string;
  testKey: string;
  signingKey: string;
}

/** `roost workspace create --name N` against the running server's database, on either engine. */
export async function createWorkspace(target: DbTarget, name: string): Promise<WorkspaceKeys> {
  const { stdout } = await execFileAsync(process.execPath, [BIN, 'workspace', 'create', '--name', name], {
    env: { PATH: process.env.PATH ?? '', ROOST_DATABASE_URL: databaseUrlOf(target), ROOST_LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 15_000,
  });
  const parsed = JSON.parse(stdout) as WorkspaceKeys;
  expect(parsed).toMatchObject({ name, liveKey: expect.any(String), testKey: expect.any(String), signingKey: expect.any(String) });
  return parsed;
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
