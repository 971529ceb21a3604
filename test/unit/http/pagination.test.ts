import { describe, expect, it } from 'vitest';
import { RoostError } from '../../../src/domain/errors.js';
import { DEFAULT_LIMIT, listEnvelope, MAX_LIMIT, offsetLimit } from '../../../src/http/pagination.js';

function errorOf(fn: () => unknown): RoostError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RoostError);
    return e as RoostError;
  }
  throw new Error('expected a RoostError');
}

describe('offsetLimit', () => {
  it('defaults to limit 10 and offset 0', () => {
    expect(DEFAULT_LIMIT).toBe(10);
    expect(MAX_LIMIT).toBe(100);
    expect(offsetLimit({})).toEqual({ offset: 0, limit: 10 });
    expect(offsetLimit({ limit: '', offset: '' })).toEqual({ offset: 0, limit: 10 });
  });

  it('reads values within range', () => {
    expect(offsetLimit({ limit: '1', offset: '0' })).toEqual({ offset: 0, limit: 1 });
    expect(offsetLimit({ limit: '100', offset: '25' })).toEqual({ offset: 25, limit: 100 });
    expect(offsetLimit({ offset: '1000000000' })).toEqual({ offset: 1_000_000_000, limit: 10 });
    expect(offsetLimit({ limit: '007' })).toEqual({ offset: 0, limit: 7 });
  });

  it('takes the first of repeated parameters', () => {
    expect(offsetLimit({ limit: ['5', '50'] })).toEqual({ offset: 0, limit: 5 });
  });

  it.each([['0'], ['101'], ['-1'], ['1.5'], ['abc'], [' 5'], ['5 '], ['1e2'], ['0x10'], ['99999999999']])('refuses limit %j', (limit) => {
    const e = errorOf(() => offsetLimit({ limit }));
    expect(e.kind).toBe('invalid_parameter');
    expect(e.code).toBe(10);
    expect(e.parameter).toBe('limit');
    expect(e.message).toContain('between 1 and 100');
  });

  it.each([['-1'], ['1000000001'], ['abc'], ['1.0'], ['+1']])('refuses offset %j', (offset) => {
    const e = errorOf(() => offsetLimit({ offset }));
    expect(e.kind).toBe('invalid_parameter');
    expect(e.parameter).toBe('offset');
  });

  it.each([[5], [null], [true], [{}], [[]]])('refuses non-string limit %j', (limit) => {
    expect(errorOf(() => offsetLimit({ limit })).parameter).toBe('limit');
  });

  it('reports the limit before the offset', () => {
    expect(errorOf(() => offsetLimit({ limit: 'x', offset: 'y' })).parameter).toBe('limit');
  });
});

describe('listEnvelope', () => {
  it('is the v1 list shape with count taken from the items', () => {
    expect(listEnvelope(20, 10, ['a', 'b'], 22)).toEqual({ offset: 20, limit: 10, count: 2, totalCount: 22, items: ['a', 'b'] });
    expect(listEnvelope(0, 10, [], 0)).toEqual({ offset: 0, limit: 10, count: 0, totalCount: 0, items: [] });
  });

  it('keeps the key order of MessageBird responses', () => {
    expect(Object.keys(listEnvelope(0, 10, [], 0))).toEqual(['offset', 'limit', 'count', 'totalCount', 'items']);
  });
});
