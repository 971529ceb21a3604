import { HttpFailure } from '../../net/http-client.js';
import type { HttpClient, HttpResponse } from '../../net/http-client.js';
import type { OutboundRequest, SendOutcome } from '../connector.js';
import { configOf } from './settings.js';
import { mapConversationStatus, messageBirdError } from './status-map.js';

/**
 * `POST {baseUrl}/send` of the Conversations API (reference messagebird §1.8): `from` is
 * the MessageBird channel id, `type` and `content` go as they are (Roost's content is
 * MessageBird's), and `reportUrl` brings status reports back to this channel with a token
 * that names the message. Never throws: every failure is an outcome.
 */
export async function sendViaMessageBird(req: OutboundRequest, http: HttpClient): Promise<SendOutcome> {
  const { message, channel, ctx } = req;
  const config = configOf(channel);
  if (!config.accessKey || !config.channelId) {
    return { kind: 'failed', error: { code: 0, description: 'MessageBird channel is missing its accessKey or channelId' } };
  }
  const body = {
    to: message.to,
    from: config.channelId,
    type: message.type,
    content: message.content,
    reportUrl: ctx.statusCallbackUrl(message.id),
  };

  let res: HttpResponse;
  try {
    res = await http.request({
      url: `${config.baseUrl}/send`,
      method: 'POST',
      headers: {
        authorization: `AccessKey ${config.accessKey}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(body),
    });
  } catch (err) {
    if (err instanceof HttpFailure && err.reason === 'refused_private_address') {
      return { kind: 'failed', error: { code: 0, description: `MessageBird base URL refused: ${err.message}` } };
    }
    const why = err instanceof Error ? err.message : String(err);
    return { kind: 'retry', error: { code: 0, description: `MessageBird unreachable: ${why}` } };
  }
  return outcomeOf(res);
}

function outcomeOf(res: HttpResponse): SendOutcome {
  const json = jsonObject(res.body);
  if (res.status >= 200 && res.status < 300) {
    // Go, Java and PHP read `{id, status}`; the Node SDK reads `{message: {id, status}}`.
    const nested = isObject(json.message) ? json.message : {};
    const id = typeof json.id === 'string' && json.id !== '' ? json.id : nested.id;
    const rawStatus = json.status ?? nested.status;
    if (typeof id !== 'string' || id === '') {
      return { kind: 'retry', error: { code: 0, description: `MessageBird answered ${res.status} without a message id` } };
    }
    const status = mapConversationStatus(rawStatus);
    if (status === 'failed') {
      return { kind: 'failed', error: messageBirdError(json.error ?? nested.error, 0, `MessageBird answered status ${String(rawStatus)}`) };
    }
    return { kind: 'accepted', providerMessageId: id, status: status ?? 'pending' };
  }
  const first = Array.isArray(json.errors) ? (json.errors as unknown[])[0] : undefined;
  const error = messageBirdError(first, res.status, `MessageBird answered ${res.status}`);
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    const retryAfterMs = retryAfter(res.headers['retry-after']);
    return retryAfterMs === undefined ? { kind: 'retry', error } : { kind: 'retry', error, retryAfterMs };
  }
  return { kind: 'failed', error };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : {};
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
