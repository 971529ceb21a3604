/**
 * A `Retry-After` header in milliseconds: delay-seconds or an HTTP date (a date already
 * past is 0). Undefined when absent or unreadable, so the send worker's own backoff applies.
 */
export function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
