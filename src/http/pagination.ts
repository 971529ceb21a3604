import { invalid } from '../domain/errors.js';

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;

/** `offset`/`limit` of the v1 list endpoints: limit 1..100 (default 10), offset >= 0 (default 0). */
export function offsetLimit(query: Record<string, unknown>): { offset: number; limit: number } {
  return {
    limit: intParam(query, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT),
    offset: intParam(query, 'offset', 0, 0, 1_000_000_000),
  };
}

function intParam(query: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  const s = Array.isArray(raw) ? raw[0] : raw;
  if (typeof s !== 'string' || !/^\d{1,10}$/.test(s)) throw invalid(name, `must be an integer between ${min} and ${max}`);
  const n = Number(s);
  if (n < min || n > max) throw invalid(name, `must be an integer between ${min} and ${max}`);
  return n;
}

export function listEnvelope<T>(offset: number, limit: number, items: T[], totalCount: number) {
  return { offset, limit, count: items.length, totalCount, items };
}
