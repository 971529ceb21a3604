import { createHash, randomBytes } from 'node:crypto';
import type { KeyMode } from '../domain/records.js';

/**
 * Access keys are 32+ random characters, so a single SHA-256 is the right storage hash:
 * no salt or slow KDF is needed against brute force of a 190-bit secret, and lookups stay
 * one index probe. Lookup is by hash, so response timing can reveal at most a prefix of a
 * hash, never of a key. Keys starting `test_` act in test mode, as MessageBird's do.
 */
export function hashAccessKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function modeOfKey(key: string): KeyMode {
  return key.startsWith('test_') ? 'test' : 'live';
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; i < bytes.length && out.length < length; i++) {
    const b = bytes[i]!;
    if (b < 248) out += ALPHABET[b % 62]; // 248 = 4 * 62: no modulo bias
  }
  return out.length === length ? out : randomString(length);
}

export function generateAccessKey(mode: KeyMode): string {
  return mode === 'test' ? `test_${randomString(32)}` : `live_${randomString(32)}`;
}

/** Webhook signing keys, in the 32-character shape MessageBird's dashboard shows. */
export function generateSigningKey(): string {
  return randomString(32);
}
