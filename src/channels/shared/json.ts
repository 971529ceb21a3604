import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../domain/json-depth.js';

/** JSON as connectors meet it: provider answers to read leniently, webhook bodies to check strictly. */

/** A JSON object: not null, not an array. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A provider answer's body as an object, `{}` when it is not one: error pages and empty
 * bodies still have a status worth acting on, so they must not throw.
 */
export function jsonObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : {};
  } catch {
    return {};
  }
}

/**
 * An inbound request body, which must be a JSON object. Anything else is the sender's
 * mistake, thrown as `bad(description)` so each connector words it in its own name.
 */
export function parseJsonBody(raw: Buffer | string, bad: (description: string) => Error): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    throw bad('body is not valid JSON');
  }
  if (!isObject(value)) throw bad('body must be a JSON object');
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw bad(`body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`);
  return value;
}

/** Headers of a JSON request to a provider API. */
export const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json', accept: 'application/json' };
