import { describe, expect, it } from 'vitest';
import { msisdnOf, toE164 } from '../../../src/domain/phone.js';

const E164 = /^\+[1-9]\d{4,14}$/;

describe('toE164', () => {
  it.each([
    ['+31612345678', '+31612345678'],
    ['31612345678', '+31612345678'],
    ['0031612345678', '+31612345678'],
    ['+31 6 1234 5678', '+31612345678'],
    ['+31-6-1234-5678', '+31612345678'],
    ['31 6 12 34 56 78', '+31612345678'],
    ['+31 (0)6 12345678', '+31612345678'],
    ['  +31612345678  ', '+31612345678'],
    ['+1 (415) 555-2671', '+14155552671'],
    ['14155552671', '+14155552671'],
    ['1-415-555-2671', '+14155552671'],
    ['+1.415.555.2671', '+14155552671'],
    ['001 415 555 2671', '+14155552671'],
    ['+44 20 7946 0958', '+442079460958'],
  ])('normalises %j to %s', (raw, expected) => {
    expect(toE164(raw)).toBe(expected);
  });

  it('gives the same E.164 for every spelling of one number (one person, one contact)', () => {
    const spellings = ['+31612345678', '31612345678', '0031612345678', '+31 6 1234 5678', '+31-6-12345678'];
    expect(new Set(spellings.map(toE164))).toEqual(new Set(['+31612345678']));
  });

  it.each([
    [''],
    ['   '],
    ['abc'],
    ['+'],
    ['hello +31612345678'],
    ['+31612345678abc'],
    ['+31 6 1234 5678 ext 12'],
    ['+31_612345678'],
    ['+31/612345678'],
    ['++31612345678'],
  ])('rejects garbage %j', (raw) => {
    expect(toE164(raw)).toBeUndefined();
  });

  it.each([['+1'], ['+123'], ['1234'], ['00123']])('rejects too short %j', (raw) => {
    expect(toE164(raw)).toBeUndefined();
  });

  it.each([['+1234567890123456'], ['12345678901234567'], ['+31 6 1234 5678 9012 3456 7890']])('rejects too long %j', (raw) => {
    expect(toE164(raw)).toBeUndefined();
  });

  it('accepts the longest E.164 length (15 digits)', () => {
    expect(toE164('+123456789012345')).toBe('+123456789012345');
  });

  it('never returns a number with a leading zero country code (not E.164)', () => {
    // A national-format number (Dutch 06...) has no country code; it must not become "+06...".
    expect(toE164('0612345678')).toBeUndefined();
    expect(toE164('06 12345678')).toBeUndefined();
  });

  it('only ever returns E.164-shaped strings', () => {
    const inputs = ['+31612345678', '31612345678', '0031612345678', '+1 (415) 555-2671', '12345', '+123456789012345',
      '0612345678', '0 6 1 2 3 4 5', '099999999', '+0031612345678'];
    for (const raw of inputs) {
      const out = toE164(raw);
      if (out !== undefined) expect(out, raw).toMatch(E164);
    }
  });
});

describe('msisdnOf', () => {
  it('is the E.164 digits as a number', () => {
    expect(msisdnOf('+31612345678')).toBe(31612345678);
    expect(msisdnOf('+14155552671')).toBe(14155552671);
  });

  it('returns a number, not a string', () => {
    expect(typeof msisdnOf('+31612345678')).toBe('number');
  });

  it('is exact for the longest E.164 numbers (15 digits fit in a double)', () => {
    expect(msisdnOf('+999999999999999')).toBe(999999999999999);
    expect(String(msisdnOf('+123456789012345'))).toBe('123456789012345');
  });

  it('round-trips through toE164', () => {
    expect(toE164(String(msisdnOf('+31612345678')))).toBe('+31612345678');
  });
});
