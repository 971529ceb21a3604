import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../../src/domain/json-depth.js';

const objects = (levels: number) => JSON.parse('{"a":'.repeat(levels) + 'null' + '}'.repeat(levels)) as unknown;
const arrays = (levels: number) => JSON.parse('['.repeat(levels) + ']'.repeat(levels)) as unknown;

describe('nestsDeeperThan', () => {
  it('counts each object or array as a level, and a scalar as none', () => {
    for (const scalar of [null, 1, 'x', true]) expect(nestsDeeperThan(scalar, 0)).toBe(false);
    expect(nestsDeeperThan({}, 0)).toBe(true);
    expect(nestsDeeperThan({}, 1)).toBe(false);
    expect(nestsDeeperThan({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: [1, { b: [] }] }, 3)).toBe(true);
  });

  it('accepts MAX_JSON_DEPTH levels and refuses one more, of objects, arrays and the two mixed', () => {
    expect(MAX_JSON_DEPTH).toBe(64);
    for (const make of [objects, arrays]) {
      expect(nestsDeeperThan(make(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
      expect(nestsDeeperThan(make(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    }
    const mixed = JSON.parse('[{"a":'.repeat(32) + '1' + '}]'.repeat(32)) as unknown; // 64 levels
    expect(nestsDeeperThan(mixed, 64)).toBe(false);
    expect(nestsDeeperThan([mixed], 64)).toBe(true);
  });

  it('finds the deep branch among shallow siblings, and stops there: 1,000,000 levels do not overflow the stack', () => {
    expect(nestsDeeperThan({ a: 1, b: [2, 3], c: { d: arrays(70) } }, 64)).toBe(true);
    expect(nestsDeeperThan(arrays(1_000_000), 64)).toBe(true);
  });
});
