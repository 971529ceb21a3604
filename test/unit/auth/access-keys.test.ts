import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateAccessKey, generateSigningKey, hashAccessKey, modeOfKey } from '../../../src/auth/access-keys.js';
import { loadConfig } from '../../../src/config.js';

describe('hashAccessKey', () => {
  it('is SHA-256 of the UTF-8 key (known vector)', () => {
    expect(hashAccessKey('abc').toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('is 32 bytes and deterministic', () => {
    const key = generateAccessKey('live');
    const a = hashAccessKey(key);
    const b = hashAccessKey(key);
    expect(Buffer.isBuffer(a)).toBe(true);
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(true);
    expect(a).not.toBe(b); // a fresh buffer each time: callers may not mutate a shared one
  });

  it('distinguishes keys that differ in one character or in case', () => {
    const base = 'live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const hashes = [base, `${base}A`, base.replace(/A$/, 'B'), base.toLowerCase(), ` ${base}`].map((k) => hashAccessKey(k).toString('hex'));
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('hashes non-ASCII keys as UTF-8', () => {
    expect(hashAccessKey('é').equals(createHash('sha256').update(Buffer.from([0xc3, 0xa9])).digest())).toBe(true);
  });
});

describe('modeOfKey', () => {
  it.each([
    ['test_abcdefghijklmnop', 'test'],
    ['live_abcdefghijklmnop', 'live'],
    ['abcdefghijklmnopqrstu', 'live'],
    ['TEST_abcdefghijklmnop', 'live'],
    ['xtest_abcdefghijklmno', 'live'],
    ['test', 'live'],
  ])('%s is %s', (key, mode) => {
    expect(modeOfKey(key)).toBe(mode);
  });
});

describe('generateAccessKey', () => {
  it('makes test keys that are test mode', () => {
    const key = generateAccessKey('test');
    expect(key).toMatch(/^test_[A-Za-z0-9]{32}$/);
    expect(modeOfKey(key)).toBe('test');
  });

  it('makes live keys that are live mode', () => {
    const key = generateAccessKey('live');
    expect(key).toMatch(/^live_[A-Za-z0-9]{32}$/);
    expect(modeOfKey(key)).toBe('live');
  });

  it('makes keys that loadConfig accepts in the matching variable', () => {
    const live = generateAccessKey('live');
    const test = generateAccessKey('test');
    const c = loadConfig({ ROOST_ACCESS_KEY: live, ROOST_TEST_ACCESS_KEY: test });
    expect(c.accessKey).toBe(live);
    expect(c.testAccessKey).toBe(test);
  });

  it('never repeats itself', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 2_000; i++) keys.add(generateAccessKey(i % 2 ? 'live' : 'test'));
    expect(keys.size).toBe(2_000);
  });

  it('uses the whole alphabet, roughly evenly (no stuck or biased characters)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2_000; i++) {
      for (const ch of generateAccessKey('live').slice(5)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    // 64,000 characters over 62 symbols: about 1,032 each.
    expect(counts.size).toBe(62);
    for (const [ch, n] of counts) {
      expect(n, ch).toBeGreaterThan(800);
      expect(n, ch).toBeLessThan(1_300);
    }
  });
});

describe('generateSigningKey', () => {
  it('is 32 alphanumeric characters', () => {
    expect(generateSigningKey()).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('never repeats itself', () => {
    const keys = new Set(Array.from({ length: 1_000 }, () => generateSigningKey()));
    expect(keys.size).toBe(1_000);
  });

  it('is accepted as ROOST_SIGNING_KEY', () => {
    const key = generateSigningKey();
    expect(loadConfig({ ROOST_SIGNING_KEY: key }).signingKey).toBe(key);
  });
});
