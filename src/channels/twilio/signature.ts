import { createHash, createHmac } from 'node:crypto';
import { parse as parseQuerystring, stringify as stringifyQuerystring } from 'node:querystring';
import { safeEqual } from '../shared/safe-equal.js';

/**
 * `X-Twilio-Signature`, reproducing twilio-node's `src/webhooks/webhooks.ts` (package
 * `twilio` 6.2.0; reference §1.2) so that Roost accepts exactly what Twilio's own
 * validator accepts. Differential-tested against the package in the unit tests.
 *
 *   data = url + for each key in sorted(keys): key + value
 *          (an array value: its de-duplicated values, sorted, each as key + value)
 *   signature = base64(HMAC-SHA1(authToken, utf8(data)))
 */

/** Decoded form fields; a key sent more than once holds all its values. */
export type TwilioParams = Record<string, string | string[]>;

export function expectedTwilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key]!;
    if (Array.isArray(value)) {
      for (const v of Array.from(new Set(value)).sort()) data += key + v;
    } else {
      data += key + value;
    }
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/**
 * True when `signature` is valid for any URL Twilio may have signed: the URL as received
 * with its port removed or the standard port added (Twilio's back ends are inconsistent
 * about ports), then the WHATWG-normalised URL (`'` → `%27`) the same two ways, each also
 * with its query re-encoded by Node's legacy `querystring` module.
 */
export function validTwilioSignature(authToken: string, signature: string, url: string, params: TwilioParams): boolean {
  const matches = (candidate: string) => safeEqual(signature, expectedTwilioSignature(authToken, candidate, params));
  if ([removePort(url), addPort(url)].some(matches)) return true;
  let normalized: string;
  try {
    normalized = new URL(url).toString();
  } catch {
    return false;
  }
  const withoutPort = removePort(normalized);
  const withPort = addPort(normalized);
  return [withoutPort, withPort, withLegacyQuerystring(withoutPort), withLegacyQuerystring(withPort)].some(matches);
}

/** Twilio's JSON-body webhooks carry `bodySHA256` in the signed URL: the hex SHA-256 of the raw body. */
export function validBodyHash(rawBody: Buffer, bodySha256: string): boolean {
  return safeEqual(bodySha256, createHash('sha256').update(rawBody).digest('hex'));
}

interface UrlParts {
  scheme: string;
  userInfo: string;
  host: string;
  port: string;
  rest: string;
}

/** Splits a URL without normalising it, so the path and query keep the characters Twilio signed. */
function splitUrl(url: string): UrlParts | undefined {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return undefined;
  const [prefix, scheme, authority] = match as unknown as [string, string, string];
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon only starts the port after the closing bracket of an IPv6 literal.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

function addPort(url: string): string {
  const parts = splitUrl(url);
  if (!parts || parts.port) return url;
  const port = parts.scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return parts.scheme + parts.userInfo + parts.host + port + parts.rest;
}

function removePort(url: string): string {
  const parts = splitUrl(url);
  return parts ? parts.scheme + parts.userInfo + parts.host + parts.rest : url;
}

function withLegacyQuerystring(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1 || queryStart === url.length - 1) return url;
  return `${url.slice(0, queryStart)}?${stringifyQuerystring(parseQuerystring(url.slice(queryStart + 1)))}`;
}

/**
 * Decodes an `application/x-www-form-urlencoded` body (or query string) the way a form
 * parser does: `+` is a space, and a repeated key keeps every value. The object has no
 * prototype, so a field named `__proto__` is an ordinary field.
 */
export function decodeForm(text: string): TwilioParams {
  const params = Object.create(null) as TwilioParams;
  for (const [key, value] of new URLSearchParams(text)) {
    const seen = params[key];
    if (seen === undefined) params[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else params[key] = [seen, value];
  }
  return params;
}
