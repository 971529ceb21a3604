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
  return uuidv7().replaceAll('-', '') as Id<K>;
}

/** Parses an id from untrusted input; accepts the dashed UUID form too. */
export function parseId<K extends string>(raw: unknown): Id<K> | undefined {
  if (typeof raw !== 'string') return undefined;
  const hex = DASHED.test(raw) ? raw.replaceAll('-', '').toLowerCase() : raw.toLowerCase();
  return ID_PATTERN.test(hex) ? (hex as Id<K>) : undefined;
}
