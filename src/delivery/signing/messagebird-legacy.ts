import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The legacy `MessageBird-Signature` + `MessageBird-Request-Timestamp` pair (deprecated by
 * MessageBird, still read by old consumers): base64 HMAC-SHA256, keyed with the signing
 * key's UTF-8 bytes, over `timestamp \n sortedQuery \n sha256(body)` where the last part
 * is the 32 raw digest bytes. The query is sorted by key and encoded like Node's
 * querystring.stringify, as MessageBird's Node SDK does.
 */
export const LEGACY_SIGNATURE_HEADER = 'MessageBird-Signature';
export const LEGACY_TIMESTAMP_HEADER = 'MessageBird-Request-Timestamp';

export function sortedQueryString(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k]!)}`)
    .join('&');
}

export function signMessageBirdLegacy(timestamp: string, query: Record<string, string>, body: Buffer | string, signingKey: string): string {
  return signMessageBirdLegacyHashed(timestamp, sortedQueryString(query), createHash('sha256').update(body).digest(), signingKey);
}

/** The same signature from the sorted query string and the body's raw SHA-256 digest (computed once per delivery). */
export function signMessageBirdLegacyHashed(timestamp: string, sortedQuery: string, bodyHash: Buffer, signingKey: string): string {
  const message = Buffer.concat([Buffer.from(`${timestamp}\n${sortedQuery}\n`, 'utf8'), bodyHash]);
  return createHmac('sha256', Buffer.from(signingKey, 'utf8')).update(message).digest('base64');
}

export function verifyMessageBirdLegacy(
  signature: string, timestamp: string, query: Record<string, string>, body: Buffer | string, signingKey: string,
): boolean {
  const expected = Buffer.from(signMessageBirdLegacy(timestamp, query, body, signingKey));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
