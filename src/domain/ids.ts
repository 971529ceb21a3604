import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/**
 * Entity ids are UUIDv7 written as 32 lower-case hex digits, the shape MessageBird's
 * API uses (`f1e812e9afd6a875d813d51f45823edd`). UUIDv7 is time-ordered, so sorting by
 * id is sorting by creation time, which gives keyset cursors for free.
 */
declare const brand: unique symbol;
export type Id<Kind extends string> = string & { readonly [brand]: Kind };

export type WorkspaceId = Id<'workspace'>;
export type AccessKeyId = Id<'access_key'>;
export type ChannelId = Id<'channel'>;
export type ContactId = Id<'contact'>;
export type ConversationId = Id<'conversation'>;
export type MessageId = Id<'message'>;
export type WebhookId = Id<'webhook'>;
export type EventId = Id<'event'>;
export type DeliveryId = Id<'delivery'>;
export type AttemptId = Id<'attempt'>;

const ID_PATTERN = /^[0-9a-f]{32}$/;
const DASHED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function newId<K extends string>(): Id<K> {
  const random = randomBytes16();
  const now = Date.now();
  // uuid's own monotonic rule (its v7 keeps it only when called without options): a new
  // millisecond starts the counter at a random 31-bit value, the same one increments it,
  // and an overflowing counter borrows the next millisecond.
  if (now > v7State.msecs) {
    v7State.msecs = now;
    v7State.seq = (random[6]! << 23) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    v7State.seq = (v7State.seq + 1) | 0;
    if (v7State.seq === 0) v7State.msecs++;
  }
  return uuidv7({ random, msecs: v7State.msecs, seq: v7State.seq }).replaceAll('-', '') as Id<K>;
}

const v7State = { msecs: -Infinity, seq: 0 };

/**
 * Random bytes come from a 4 KiB pool (256 ids a refill) instead of uuid's 256 bytes (16):
 * a refill (`randomFillSync`, whose OpenSSL fork check is a `getpid` system call) costs
 * ~4 µs on this VM whatever its size, and the SQLite writer makes four or more ids a
 * message. `newId()` went from 1.0–1.6 µs to 0.45.
 */
function randomBytes16(): Uint8Array {
  if (poolAt > POOL.length - 16) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  return POOL.subarray(poolAt, (poolAt += 16));
}

const POOL = new Uint8Array(4096);
let poolAt = POOL.length;

/** Parses an id from untrusted input; accepts the dashed UUID form too. */
export function parseId<K extends string>(raw: unknown): Id<K> | undefined {
  if (typeof raw !== 'string') return undefined;
  const hex = DASHED.test(raw) ? raw.replaceAll('-', '').toLowerCase() : raw.toLowerCase();
  return ID_PATTERN.test(hex) ? (hex as Id<K>) : undefined;
}
