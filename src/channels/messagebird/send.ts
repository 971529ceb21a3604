import type { HttpClient, HttpResponse } from '../../net/http-client.js';
import type { OutboundRequest, SendOutcome } from '../connector.js';
import { JSON_HEADERS, isObject, jsonObject } from '../shared/json.js';
import { failedOutcome, isSuccessStatus, refusedOutcome, retryOutcome, sendRequest } from '../shared/send-outcome.js';
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
  if (!config.accessKey || !config.channelId) return failedOutcome('MessageBird channel is missing its accessKey or channelId');
  const body = {
    to: message.to,
    from: config.channelId,
    type: message.type,
    content: message.content,
    reportUrl: ctx.statusCallbackUrl(message.id),
  };
  const headers = { authorization: `AccessKey ${config.accessKey}`, ...JSON_HEADERS };
  return sendRequest(
    'MessageBird',
    () => http.request({ url: `${config.baseUrl}/send`, method: 'POST', headers, body: JSON.stringify(body) }),
    outcomeOf,
  );
}

function outcomeOf(res: HttpResponse): SendOutcome {
  const json = jsonObject(res.body);
  if (!isSuccessStatus(res.status)) {
    const first = Array.isArray(json.errors) ? (json.errors as unknown[])[0] : undefined;
    return refusedOutcome(res, messageBirdError(first, res.status, `MessageBird answered ${res.status}`));
  }
  // Go, Java and PHP read `{id, status}`; the Node SDK reads `{message: {id, status}}`.
  const nested = isObject(json.message) ? json.message : {};
  const id = typeof json.id === 'string' && json.id !== '' ? json.id : nested.id;
  const rawStatus = json.status ?? nested.status;
  if (typeof id !== 'string' || id === '') return retryOutcome(`MessageBird answered ${res.status} without a message id`);
  const status = mapConversationStatus(rawStatus);
  if (status === 'failed') {
    return { kind: 'failed', error: messageBirdError(json.error ?? nested.error, 0, `MessageBird answered status ${String(rawStatus)}`) };
  }
  return { kind: 'accepted', providerMessageId: id, status: status ?? 'pending' };
}
