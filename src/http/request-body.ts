import type { FastifyRequest } from 'fastify';
import { invalid, RoostError } from '../domain/errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../domain/json-depth.js';

/**
 * The attributes of a request, from wherever the client put them. MessageBird accepts a
 * JSON body, and "alternatively, resource attributes can be sent through GET parameters"
 * (seed 004), e.g. `POST /v1/send?to=...&from=...&type=text&content[text]=Hi`. Form bodies
 * are read the same way. Nested keys use brackets (`content[text]`); a value that is
 * itself a JSON object or array (`content={"text":"Hi"}`) is parsed as JSON.
 */
export function attributesOf(req: FastifyRequest): Record<string, unknown> {
  const attributes = readAttributes(req);
  if (nestsDeeperThan(attributes, MAX_JSON_DEPTH)) {
    throw new RoostError('bad_request', `request attributes nest objects or arrays deeper than ${MAX_JSON_DEPTH} levels`);
  }
  const illFormed = illFormedAt(attributes, '');
  if (illFormed !== undefined) throw invalid(illFormed, 'is not valid Unicode (it holds a lone UTF-16 surrogate)');
  return attributes;
}

/**
 * The path (`content.text`, `items.0`) of the first string, key or value, that is not
 * well-formed UTF-16. JSON lets `"\ud800"` through, but UTF-8 cannot hold it: stored, it
 * would come back as U+FFFD, so it is refused rather than silently changed.
 */
function illFormedAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return (value as WellFormed).isWellFormed() ? undefined : path || 'body';
  if (typeof value !== 'object' || value === null) return undefined;
  for (const key in value) {
    const at = path ? `${path}.${key}` : key;
    if (!(key as WellFormed).isWellFormed()) return at;
    const found = illFormedAt((value as Record<string, unknown>)[key], at);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `String.prototype.isWellFormed` (V8 11.3, Node 20), not yet in TypeScript's ES2022 lib. */
type WellFormed = string & { isWellFormed(): boolean };

function readAttributes(req: FastifyRequest): Record<string, unknown> {
  const body = req.body as Buffer | undefined;
  // A UTF-8 byte-order mark is not part of the JSON text.
  const raw = body && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? body.subarray(3) : body;
  if (raw && raw.length > 0) {
    const type = String(req.headers['content-type'] ?? '').toLowerCase();
    // curl's -d sends JSON labelled as a form; a body that opens like JSON is read as JSON.
    const looksJson = raw[0] === 0x7b || raw[0] === 0x5b || /^\s*[{[]/.test(raw.subarray(0, 64).toString('utf8'));
    if (type.startsWith('application/x-www-form-urlencoded') && !looksJson) {
      return fromParams(new URLSearchParams(raw.toString('utf8')));
    }
    let text: string;
    try {
      text = STRICT_UTF8.decode(raw);
    } catch {
      // Decoded leniently, such bytes would be stored as U+FFFD without a word.
      throw new RoostError('bad_request', 'request body is not valid UTF-8');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new RoostError('bad_request', 'request body is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new RoostError('bad_request', 'request body must be a JSON object');
    }
    return parsed as Record<string, unknown>;
  }
  const q = req.url.indexOf('?');
  return q === -1 ? {} : fromParams(new URLSearchParams(req.url.slice(q + 1)));
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

const RESERVED = new Set(['_method', 'access_key']);
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function fromParams(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of params) {
    if (RESERVED.has(key)) continue;
    const path = key.split(/[[\]]+/).filter((p) => p !== '');
    if (path.length === 0 || path.length > 5 || path.some((p) => FORBIDDEN_KEYS.has(p))) continue;
    let node = out;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== 'object' || next === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = coerce(value);
  }
  return out;
}

function coerce(value: string): unknown {
  const t = value.trim();
  if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
    try {
      return JSON.parse(t);
    } catch {
      return value;
    }
  }
  return value;
}
