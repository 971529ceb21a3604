import { invalid, missing } from './errors.js';

/**
 * Message types Roost stores and emits. These are the types of the AsyncAPI event schema
 * (seed 002); `content` carries one key named after the type, as in MessageBird v1.
 */
export const MESSAGE_TYPES = ['text', 'image', 'video', 'audio', 'file', 'location', 'hsm'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface Media {
  url: string;
  caption?: string;
}

export type MessageContent =
  | { text: string }
  | { image: Media }
  | { video: Media }
  | { audio: Media }
  | { file: Media }
  | { location: { latitude: number; longitude: number } }
  | { hsm: Record<string, unknown> };

export const MAX_TEXT_LENGTH = 20_000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Whether a provider's media URL names a scheme other than http(s) (`javascript:`,
 * `data:`, `file:`): refused, since clients render these URLs. A bare name without a
 * scheme passes: Sendblue's own example (seed 001) sends `some_cdn_link.png`.
 */
export function hasNonHttpScheme(url: string): boolean {
  // As a browser reads it (WHATWG URL): tabs and newlines removed anywhere, C0 controls
  // and spaces trimmed at the ends, so `java\tscript:` is `javascript:`.
  // eslint-disable-next-line no-control-regex -- the C0 controls are what is trimmed
  const read = url.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+/, '');
  return /^[a-z][a-z0-9+.-]*:/i.test(read) && !/^https?:/i.test(read);
}

/** An absolute http(s) URL of at most 2,048 characters: what a media message's `url` may be. */
export function isHttpUrl(v: unknown): v is string {
  if (typeof v !== 'string' || v.length > 2048) return false;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** Validates an API request's `type` + `content` pair and returns the normalised content. */
export function parseContent(type: unknown, content: unknown): { type: MessageType; content: MessageContent } {
  if (type === undefined || type === null || type === '') throw missing('type');
  if (typeof type !== 'string' || !(MESSAGE_TYPES as readonly string[]).includes(type)) {
    throw invalid('type', `must be one of ${MESSAGE_TYPES.join(', ')}`);
  }
  if (content === undefined || content === null) throw missing('content');
  if (!isObject(content)) throw invalid('content', 'must be an object');
  const t = type as MessageType;
  const body = content[t];
  switch (t) {
    case 'text': {
      if (body === undefined || body === null || body === '') throw missing('content.text');
      if (typeof body !== 'string') throw invalid('content.text', 'must be a string');
      if (body.length > MAX_TEXT_LENGTH) throw invalid('content.text', `must be at most ${MAX_TEXT_LENGTH} characters`);
      return { type: t, content: { text: body } };
    }
    case 'image':
    case 'video':
    case 'audio':
    case 'file': {
      if (body === undefined || body === null) throw missing(`content.${t}`);
      if (!isObject(body)) throw invalid(`content.${t}`, 'must be an object with a url');
      if (!isHttpUrl(body.url)) throw invalid(`content.${t}.url`, 'must be an http(s) URL');
      const media: Media = { url: body.url };
      if (body.caption !== undefined && body.caption !== null) {
        if (typeof body.caption !== 'string') throw invalid(`content.${t}.caption`, 'must be a string');
        media.caption = body.caption;
      }
      return { type: t, content: { [t]: media } as MessageContent };
    }
    case 'location': {
      if (!isObject(body)) throw missing('content.location');
      const { latitude, longitude } = body;
      if (typeof latitude !== 'number' || !Number.isFinite(latitude) || latitude < -90 || latitude > 90) {
        throw invalid('content.location.latitude', 'must be a number between -90 and 90');
      }
      if (typeof longitude !== 'number' || !Number.isFinite(longitude) || longitude < -180 || longitude > 180) {
        throw invalid('content.location.longitude', 'must be a number between -180 and 180');
      }
      return { type: t, content: { location: { latitude, longitude } } };
    }
    case 'hsm': {
      if (!isObject(body)) throw missing('content.hsm');
      if (typeof body.templateName !== 'string' || body.templateName === '') throw missing('content.hsm.templateName');
      return { type: t, content: { hsm: body } };
    }
  }
}

/** A short plain-text rendering, for channels that only carry text. */
export function textOf(content: MessageContent): string {
  if ('text' in content) return content.text;
  if ('location' in content) return `${content.location.latitude},${content.location.longitude}`;
  if ('hsm' in content) return String(content.hsm.templateName);
  const media = Object.values(content)[0] as Media;
  return media.caption ?? '';
}

export function mediaOf(content: MessageContent): Media | undefined {
  for (const k of ['image', 'video', 'audio', 'file'] as const) {
    if (k in content) return (content as Record<string, Media>)[k];
  }
  return undefined;
}
