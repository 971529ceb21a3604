import type { MessageError } from '../../domain/records.js';
import type { HttpClient, HttpResponse } from '../../net/http-client.js';
import { JSON_HEADERS, isObject } from '../shared/json.js';
import { errorText } from '../shared/send-outcome.js';

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
    headers: { ...JSON_HEADERS },
    body: JSON.stringify(params),
  });
}

/** Why a request never got an answer, without the bot token (it sits in the URL path). */
export function failureText(err: unknown, botToken: string): string {
  const text = errorText(err);
  return botToken === '' ? text : text.split(botToken).join('<botToken>');
}

/** The error of a Bot API answer: `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`. */
export function telegramError(json: Record<string, unknown>, status: number): MessageError {
  const code = typeof json.error_code === 'number' && Number.isInteger(json.error_code) ? json.error_code : status;
  const description = typeof json.description === 'string' && json.description.trim() !== ''
    ? json.description.slice(0, 1000)
    : `Telegram answered ${status}`;
  return { code, description };
}

/** How long Telegram asks us to wait in the body: `parameters.retry_after` (seconds) on a 429. */
export function botApiRetryAfterMs(json: Record<string, unknown>): number | undefined {
  const seconds = isObject(json.parameters) ? json.parameters.retry_after : undefined;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
