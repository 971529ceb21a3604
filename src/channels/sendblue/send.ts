import { mediaOf, textOf } from '../../domain/content.js';
import type { MessageError } from '../../domain/records.js';
import { HttpFailure } from '../../net/http-client.js';
import type { HttpClient, HttpResponse } from '../../net/http-client.js';
import type { OutboundRequest, SendOutcome } from '../connector.js';
import { configOf } from './settings.js';
import { sendblueError } from './status-map.js';

const FAILED_STATUSES = new Set(['ERROR', 'FAILED', 'DECLINED']);

/** POST /api/send-message (reference §4.3). Never throws: every failure is an outcome. */
export async function sendViaSendblue(req: OutboundRequest, http: HttpClient): Promise<SendOutcome> {
  const { message, channel, ctx } = req;
  const config = configOf(channel);
  if (!config.apiKeyId || !config.apiSecretKey || !config.fromNumber) {
    return { kind: 'failed', error: { code: 0, description: 'Sendblue channel is missing its API keys or fromNumber' } };
  }

  const text = textOf(message.content);
  const media = mediaOf(message.content);
  const body: Record<string, string> = { number: message.to, from_number: config.fromNumber };
  if (text !== '') body.content = text;
  if (media !== undefined) body.media_url = media.url;
  body.status_callback = ctx.statusCallbackUrl(message.id);

  let res: HttpResponse;
  try {
    res = await http.request({
      url: `${config.baseUrl}/api/send-message`,
      method: 'POST',
      headers: {
        'sb-api-key-id': config.apiKeyId,
        'sb-api-secret-key': config.apiSecretKey,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(body),
    });
  } catch (err) {
    if (err instanceof HttpFailure && err.reason === 'refused_private_address') {
      return { kind: 'failed', error: { code: 0, description: `Sendblue base URL refused: ${err.message}` } };
    }
    const why = err instanceof Error ? err.message : String(err);
    return { kind: 'retry', error: { code: 0, description: `Sendblue unreachable: ${why}` } };
  }
  return outcomeOf(res);
}

function outcomeOf(res: HttpResponse): SendOutcome {
  const json = jsonObject(res.body);
  if (res.status >= 200 && res.status < 300) {
    const status = typeof json.status === 'string' ? json.status.toUpperCase() : '';
    if (FAILED_STATUSES.has(status)) return { kind: 'failed', error: sendblueError(json, 0, `Sendblue answered status ${status}`) };
    const handle = json.message_handle;
    if (typeof handle !== 'string' || handle === '') {
      return { kind: 'retry', error: { code: 0, description: `Sendblue answered ${res.status} without a message_handle` } };
    }
    return { kind: 'accepted', providerMessageId: handle, status: status === 'SENT' ? 'sent' : 'pending' };
  }
  const error: MessageError = sendblueError(json, res.status, `Sendblue answered ${res.status}`);
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    const retryAfterMs = retryAfter(res.headers['retry-after']);
    return retryAfterMs === undefined ? { kind: 'retry', error } : { kind: 'retry', error, retryAfterMs };
  }
  return { kind: 'failed', error };
}

function jsonObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** `Retry-After` as delay-seconds or an HTTP date. */
function retryAfter(header: string | string[] | undefined): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
