import { parseContent } from '../domain/content.js';
import type { MessageContent, MessageType } from '../domain/content.js';
import { invalid, missing } from '../domain/errors.js';
import { parseId } from '../domain/ids.js';
import type { ChannelId } from '../domain/ids.js';

/** The parts of start, reply and send requests that describe the message itself. */
export interface OutboundFields {
  type: MessageType;
  content: MessageContent;
  source: Record<string, unknown> | null;
  tag: string | null;
  reportUrl: string | null;
}

type Body = Record<string, unknown>;

export function parseOutboundFields(body: Body): OutboundFields {
  const { type, content } = parseContent(body.type, body.content);
  const source = body.source;
  if (source !== undefined && source !== null && (typeof source !== 'object' || Array.isArray(source))) {
    throw invalid('source', 'must be an object');
  }
  const tag = optionalString(body, 'tag');
  const reportUrl = optionalString(body, 'reportUrl');
  if (reportUrl !== null) {
    try {
      const u = new URL(reportUrl);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error();
    } catch {
      throw invalid('reportUrl', 'must be an http(s) URL');
    }
  }
  return { type, content, source: (source as Record<string, unknown> | undefined) ?? null, tag, reportUrl };
}

export function requiredChannelId(body: Body, field: string): ChannelId {
  const raw = body[field];
  if (raw === undefined || raw === null || raw === '') throw missing(field);
  const id = parseId<'channel'>(raw);
  if (!id) throw invalid(field, 'is not a valid channel id');
  return id;
}

export function optionalChannelId(body: Body, field: string): ChannelId | undefined {
  const raw = body[field];
  if (raw === undefined || raw === null || raw === '') return undefined;
  return requiredChannelId(body, field);
}

export function requiredRecipient(body: Body, field: string): string {
  const raw = body[field];
  if (raw === undefined || raw === null || raw === '') throw missing(field);
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0) return String(raw); // MSISDN as a number
  if (typeof raw !== 'string') throw invalid(field, 'must be a string');
  if (raw.length > 256) throw invalid(field, 'is too long');
  return raw;
}

function optionalString(body: Body, field: string): string | null {
  const v = body[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw invalid(field, 'must be a string');
  if (v.length > 2048) throw invalid(field, 'is too long');
  return v;
}
