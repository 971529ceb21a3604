import { afterEach, describe, expect, it, vi } from 'vitest';
import { newId, parseId } from '../../../src/domain/ids.js';

describe('newId', () => {
  it('is 32 lower-case hex digits', () => {
    for (let i = 0; i < 100; i++) expect(newId()).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is a UUIDv7 (version nibble 7, RFC 4122 variant)', () => {
    const id = newId();
    expect(id[12]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[16]);
  });

  it('carries the creation time in its first 48 bits', () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    const ms = parseInt(id.slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it('is unique and strictly increasing: lexicographic order is creation order', () => {
    const ids = Array.from({ length: 1_000 }, () => newId());
    expect(new Set(ids).size).toBe(1_000);
    expect([...ids].sort()).toEqual(ids);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });

  it('draws fresh random bits for every id, across refills of its random pool (256 ids each)', () => {
    const ids = Array.from({ length: 2_000 }, () => newId());
    // The last 40 bits are random in every id: a pool that did not advance would repeat them.
    expect(new Set(ids.map((id) => id.slice(22))).size).toBe(2_000);
    expect([...ids].sort()).toEqual(ids);
  });

  describe('when the clock steps back', () => {
    afterEach(() => vi.restoreAllMocks());

    it('keeps the last millisecond and counts on, so order still holds', () => {
      const t = Date.now() + 60_000;
      const now = vi.spyOn(Date, 'now').mockReturnValue(t);
      const a = newId();
      now.mockReturnValue(t - 5_000);
      const b = newId();
      expect(b > a).toBe(true);
      expect(parseInt(b.slice(0, 12), 16)).toBe(t);
      now.mockReturnValue(t + 1);
      const c = newId();
      expect(parseInt(c.slice(0, 12), 16)).toBe(t + 1);
      expect(c > b).toBe(true);
    });
  });

  it('stays ordered across milliseconds', async () => {
    const a = newId();
    await new Promise((r) => setTimeout(r, 3));
    const b = newId();
    expect(b > a).toBe(true);
  });
});

describe('parseId', () => {
  it('accepts its own ids unchanged', () => {
    const id = newId();
    expect(parseId(id)).toBe(id);
  });

  it('accepts the dashed UUID form and returns the 32-hex form', () => {
    expect(parseId('0190f5e2-7b3c-7a1d-8e4f-0123456789ab')).toBe('0190f5e27b3c7a1d8e4f0123456789ab');
  });

  it('lower-cases upper-case input, dashed or not', () => {
    expect(parseId('0190F5E27B3C7A1D8E4F0123456789AB')).toBe('0190f5e27b3c7a1d8e4f0123456789ab');
    expect(parseId('0190F5E2-7B3C-7A1D-8E4F-0123456789AB')).toBe('0190f5e27b3c7a1d8e4f0123456789ab');
  });

  it('accepts MessageBird-shaped ids (not only v7)', () => {
    expect(parseId('f1e812e9afd6a875d813d51f45823edd')).toBe('f1e812e9afd6a875d813d51f45823edd');
  });

  it.each([
    [''],
    ['garbage'],
    ['f1e812e9afd6a875d813d51f45823ed'], // 31
    ['f1e812e9afd6a875d813d51f45823eddd'], // 33
    ['g1e812e9afd6a875d813d51f45823edd'], // non-hex
    [' f1e812e9afd6a875d813d51f45823edd'],
    ['f1e812e9afd6a875d813d51f45823edd '],
    ['f1e812e9-afd6-a875-d813-d51f45823ed'], // 35: dashed but one short
    ['f1e812e9afd6a875d813d51f45823edd-'],
    ['{f1e812e9-afd6-a875-d813-d51f45823edd}'],
    ['../../etc/passwd'],
    ['f1e812e9afd6a875%d813d51f45823edd'],
  ])('rejects %j', (raw) => {
    expect(parseId(raw)).toBeUndefined();
  });

  it.each([
    ['----f1e812e9afd6a875d813d51f45823edd'],
    ['f1e812e9afd6a875d813d51f45823edd----'],
    ['f1e8-12e9-afd6a875d813-d51f45823edd-'],
  ])('rejects %j: 36 characters, but dashes not where a UUID has them', (raw) => {
    expect(parseId(raw)).toBeUndefined();
  });

  it.each([[undefined], [null], [42], [{}], [['f1e812e9afd6a875d813d51f45823edd']]])('rejects non-string %j', (raw) => {
    expect(parseId(raw)).toBeUndefined();
  });
});
