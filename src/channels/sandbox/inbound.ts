import { MAX_TEXT_LENGTH, parseContent } from '../../domain/content.js';
import type { MessageContent, MessageType } from '../../domain/content.js';
import { RoostError, invalid, missing } from '../../domain/errors.js';
import { newId, parseId } from '../../domain/ids.js';
import { toE164 } from '../../domain/phone.js';
import type { MessageError } from '../../domain/records.js';
import { OUTBOUND_STATUSES } from '../../domain/status.js';
import type { OutboundStatus } from '../../domain/status.js';
import type { ChannelContext, InboundMessage, InboundRequest, ParsedInbound, StatusUpdate } from '../connector.js';
import { parseJsonBody } from '../shared/json.js';
import { sandboxNumberOf } from './settings.js';

type Body = Record<string, unknown>;

const MESSAGE_FIELDS = new Set(['id', 'from', 'text', 'type', 'content', 'name']);
const STATUS_FIELDS = new Set(['id', 'messageId', 'status', 'error']);
const MAX_FIELD_LENGTH = 256;
export const SIMULATED_FAILURE: MessageError = { code: 1, description: 'sandbox: simulated failure' };

/** Parses the sandbox wire format documented in sandbox-connector.ts. */
export function parseSandbox(req: InboundRequest, ctx: ChannelContext): ParsedInbound {
  const body = parseJsonBody(req.rawBody, (description) => new RoostError('bad_request', `sandbox: ${description}`));
  const item = 'status' in body ? statusUpdate(body) : message(body, ctx);
  return { items: [item] };
}

// Unknown fields are refused so that a typo ("txt") is an error rather than silently ignored.
function onlyFields(body: Body, allowed: Set<string>): void {
  for (const key of Object.keys(body)) {
    if (!allowed.has(key)) throw invalid(key, 'is not a sandbox field');
  }
}

function shortString(body: Body, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_FIELD_LENGTH) {
    throw invalid(key, `must be a non-empty string of at most ${MAX_FIELD_LENGTH} characters`);
  }
  return v;
}

function message(body: Body, ctx: ChannelContext): InboundMessage {
  onlyFields(body, MESSAGE_FIELDS);
  const rawFrom = shortString(body, 'from');
  if (rawFrom === undefined) throw missing('from');
  const phone = toE164(rawFrom);
  // Anything that is not a phone number is a sandbox-only identity, so a test can play any user.
  const contact = phone !== undefined ? { key: 'phonenumber', value: phone } : { key: 'sandbox', value: rawFrom };
  const name = shortString(body, 'name');
  const msg: InboundMessage = {
    kind: 'message',
    // Without an id every POST is a new message; with one, repeating a POST tests deduplication.
    providerMessageId: shortString(body, 'id') ?? newId(),
    contact,
    from: contact.value,
    to: sandboxNumberOf(ctx.channel),
    ...contentOf(body),
  };
  if (name !== undefined) msg.contactName = name;
  return msg;
}

function contentOf(body: Body): { type: MessageType; content: MessageContent } {
  if (body.type !== undefined) {
    if (body.text !== undefined) throw invalid('text', 'cannot be combined with type and content');
    return parseContent(body.type, body.content);
  }
  if (body.content !== undefined) throw missing('type');
  const text = body.text;
  if (text === undefined || text === null || text === '') throw missing('text');
  if (typeof text !== 'string') throw invalid('text', 'must be a string');
  if (text.length > MAX_TEXT_LENGTH) throw invalid('text', `must be at most ${MAX_TEXT_LENGTH} characters`);
  return { type: 'text', content: { text } };
}

function statusUpdate(body: Body): StatusUpdate {
  onlyFields(body, STATUS_FIELDS);
  const status = body.status;
  if (typeof status !== 'string' || !(OUTBOUND_STATUSES as readonly string[]).includes(status)) {
    throw invalid('status', `must be one of ${OUTBOUND_STATUSES.join(', ')}`);
  }
  const providerId = shortString(body, 'id');
  const messageId = body.messageId === undefined || body.messageId === null ? undefined : parseId<'message'>(body.messageId);
  if (messageId === undefined && body.messageId !== undefined && body.messageId !== null) {
    throw invalid('messageId', 'must be a message id');
  }
  if (providerId === undefined && messageId === undefined) throw missing('messageId');

  const update: StatusUpdate = {
    kind: 'status',
    // The sandbox's send() names its provider ids `sandbox-<message id>`; match that.
    providerMessageId: providerId ?? `sandbox-${messageId}`,
    status: status as OutboundStatus,
  };
  if (messageId !== undefined) update.messageId = messageId;
  if (status === 'failed') update.error = errorOf(body.error);
  return update;
}

function errorOf(v: unknown): MessageError {
  if (v === undefined || v === null) return SIMULATED_FAILURE;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('error', 'must be an object with code and description');
  const { code, description } = v as Record<string, unknown>;
  if (typeof code !== 'number' || !Number.isInteger(code)) throw invalid('error.code', 'must be an integer');
  if (typeof description !== 'string' || description === '' || description.length > 1000) {
    throw invalid('error.description', 'must be a non-empty string of at most 1000 characters');
  }
  return { code, description };
}
