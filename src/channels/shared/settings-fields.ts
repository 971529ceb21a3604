import { invalid, missing } from '../../domain/errors.js';
import { toE164 } from '../../domain/phone.js';
import type { SettingsInput } from '../connector.js';

/**
 * The building blocks of every connector's `parseSettings`. Each check names the setting
 * as `settings.<key>`, so an API error points at exactly what the caller sent.
 */

const MAX_SECRET_LENGTH = 1024;
const MAX_URL_LENGTH = 2048;

/** Absent, `null` or "": the setting is not set (on PATCH, `null` and "" clear it). */
export const isUnset = (value: unknown): value is undefined | null | '' => value === undefined || value === null || value === '';

/** Refuses a key the platform does not know, so that a typo is an error rather than ignored. */
export function rejectUnknownKeys(input: Record<string, unknown>, known: ReadonlySet<string>, platformName: string): void {
  for (const key of Object.keys(input)) {
    if (!known.has(key)) throw invalid(`settings.${key}`, `is not a ${platformName} setting`);
  }
}

export type SettingPicker = (key: string, from: 'settings' | 'secrets') => unknown;

/**
 * The PATCH merge: a key given in `input` wins, an absent one keeps its `previous` value
 * (looked up among the stored settings or secrets, which are kept apart).
 */
export function picker(input: Record<string, unknown>, previous?: SettingsInput): SettingPicker {
  return (key, from) => (key in input && input[key] !== undefined ? input[key] : previous?.[from][key]);
}

export function requiredSecret(key: string, value: unknown): string {
  if (isUnset(value)) throw missing(`settings.${key}`);
  return secretString(key, value);
}

export function optionalSecret(key: string, value: unknown): string | undefined {
  return isUnset(value) ? undefined : secretString(key, value);
}

function secretString(key: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(`settings.${key}`, 'must be a string');
  // Surrounding spaces are a copy-paste slip that would make every provider call fail.
  if (value.trim() !== value || value.length > MAX_SECRET_LENGTH) {
    throw invalid(`settings.${key}`, `must be at most ${MAX_SECRET_LENGTH} characters without surrounding spaces`);
  }
  return value;
}

/** A required string in the provider's own format (account SID, bot token, channel id…). */
export function requiredMatch(key: string, value: unknown, format: RegExp, why: string): string {
  if (isUnset(value)) throw missing(`settings.${key}`);
  if (typeof value !== 'string' || !format.test(value)) throw invalid(`settings.${key}`, why);
  return value;
}

/** A phone number, normalised to E.164. */
export function requiredPhone(key: string, value: unknown): string {
  if (isUnset(value)) throw missing(`settings.${key}`);
  return e164Of(key, value);
}

export function optionalPhone(key: string, value: unknown): string | undefined {
  return isUnset(value) ? undefined : e164Of(key, value);
}

function e164Of(key: string, value: unknown): string {
  const e164 = typeof value === 'string' ? toE164(value) : undefined;
  if (e164 === undefined) throw invalid(`settings.${key}`, 'must be a phone number in E.164 format');
  return e164;
}

/**
 * A provider API base URL (an operator may point a channel at a proxy or a test double):
 * http(s) only, without credentials, query or fragment, which would leak into or break
 * every request path built on it. Trailing slashes are dropped; unset means `defaultUrl`.
 */
export function httpBaseUrl(key: string, value: unknown, defaultUrl: string): string {
  if (isUnset(value)) return defaultUrl;
  const notHttp = () => invalid(`settings.${key}`, 'must be an http(s) URL');
  if (typeof value !== 'string' || value.length > MAX_URL_LENGTH) throw notHttp();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw notHttp();
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw notHttp();
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw invalid(`settings.${key}`, 'must not carry credentials, a query or a fragment');
  }
  return value.replace(/\/+$/, '');
}
