import type { MessageError } from '../../domain/records.js';
import { HttpFailure } from '../../net/http-client.js';
import type { HttpClient, HttpResponse } from '../../net/http-client.js';

/**
 * Calls one Bot API method: `POST {baseUrl}/bot<token>/<method>` with a JSON body
 * (reference §2.1, §2.3). Throws HttpFailure on network failures, like the client.
 */
export function callBotApi(
  http: HttpClient, baseUrl: string, botToken: string, method: string, params: Record<string, unknown>,
): Promise<HttpResponse> {
  return http.request({
    url: `${baseUrl}/bot${botToken}/${method}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(params),
  });
}

/** Why a request never got an answer, without the bot token (it sits in the URL path). */
export function failureText(err: unknown, botToken: string): string {
  const text = err instanceof Error ? err.message : String(err);
  return botToken === '' ? text : text.split(botToken).join('<botToken>');
}

export const isRefusedAddress = (err: unknown): boolean => err instanceof HttpFailure && err.reason === 'refused_private_address';

export function jsonObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The error of a Bot API answer: `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`. */
export function telegramError(json: Record<string, unknown>, status: number): MessageError {
  const code = typeof json.error_code === 'number' && Number.isInteger(json.error_code) ? json.error_code : status;
  const description = typeof json.description === 'string' && json.description.trim() !== ''
    ? json.description.slice(0, 1000)
    : `Telegram answered ${status}`;
  return { code, description };
}

/** How long Telegram asks us to wait: `parameters.retry_after` (seconds) on a 429, else `Retry-After`. */
export function retryAfterMs(json: Record<string, unknown>, header: string | string[] | undefined): number | undefined {
  const params = json.parameters;
  if (typeof params === 'object' && params !== null) {
    const seconds = (params as Record<string, unknown>).retry_after;
    if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  }
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
