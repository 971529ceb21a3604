import { describe, expect, it } from 'vitest';
import { rfc3339 } from '../../../src/domain/time.js';

describe('rfc3339', () => {
  it('is exactly Date#toISOString, within a second, across seconds and in any order', () => {
    const base = Date.UTC(2026, 11, 2, 4, 59, 59, 0);
    const values = [
      base, base + 1, base + 9, base + 10, base + 99, base + 100, base + 999, base + 1000, base + 1001, base - 1, base,
      0, 1, 999, 1000, -1, -999, -1000, -1001, 951782400000, 951868799999, 4102444799999, 8.64e15, -8.64e15, 1.5, -0.5,
      base + 5, base + 5.5, base + 999.9, -1000, -1000.5, // fractions in a second just cached
    ];
    let seed = 42;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      values.push(base + (seed % 5000) - 2500, seed * 1000 + (seed % 1000) - 2 ** 40);
    }
    for (const ms of values) expect(rfc3339(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  it('throws on what Date cannot format, as before', () => {
    expect(() => rfc3339(Number.NaN)).toThrow(RangeError);
    expect(() => rfc3339(8.64e15 + 1)).toThrow(RangeError);
    expect(rfc3339(Date.UTC(2019, 2, 1, 10, 40, 2, 880))).toBe('2019-03-01T10:40:02.880Z');
  });
});
