import { timingSafeEqual } from 'node:crypto';

/** Compares a presented secret with the expected one in constant time (rule 0.2.2). */
export function safeEqual(presented: string, expected: string): boolean {
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // timingSafeEqual throws on unequal lengths; the length itself is not secret.
  return a.length === b.length && timingSafeEqual(a, b);
}
