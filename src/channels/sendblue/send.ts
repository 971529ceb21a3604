import { mediaOf, textOf } from '../../domain/content.js';
import type { HttpClient, HttpResponse } from '../../net/http-client.js';
import type { OutboundRequest, SendOutcome } from '../connector.js';
import { JSON_HEADERS, jsonObject } from '../shared/json.js';
import { failedOutcome, isSuccessStatus, refusedOutcome, retryOutcome, sendRequest } from '../shared/send-outcome.js';
import { configOf } from './settings.js';
import { sendblueError } from './status-map.js';

const FAILED_STATUSES = new Set(['ERROR', 'FAILED', 'DECLINED']);

/** POST /api/send-message (reference §4.3). Never throws: every failure is an outcome. */
export async function sendViaSendblue(req: OutboundRequest, http: HttpClient): Promise<SendOutcome> {
  const { message, channel, ctx } = req;
  const config = configOf(channel);
  if (!config.apiKeyId || !config.apiSecretKey || !config.fromNumber) {
    return failedOutcome('Sendblue channel is missing its API keys or fromNumber');
  }

  const text = textOf(message.content);
  const media = mediaOf(message.content);
  const body: Record<string, string> = { number: message.to, from_number: config.fromNumber };
  if (text !== '') body.content = text;
  if (media !== undefined) body.media_url = media.url;
  body.status_callback = ctx.statusCallbackUrl(message.id);

  const headers = { 'sb-api-key-id': config.apiKeyId, 'sb-api-secret-key': config.apiSecretKey, ...JSON_HEADERS };
  return sendRequest(
    'Sendblue',
    () => http.request({ url: `${config.baseUrl}/api/send-message`, method: 'POST', headers, body: JSON.stringify(body) }),
    outcomeOf,
  );
}

function outcomeOf(res: HttpResponse): SendOutcome {
  const json = jsonObject(res.body);
  if (!isSuccessStatus(res.status)) return refusedOutcome(res, sendblueError(json, res.status, `Sendblue answered ${res.status}`));
  const status = typeof json.status === 'string' ? json.status.toUpperCase() : '';
  if (FAILED_STATUSES.has(status)) return { kind: 'failed', error: sendblueError(json, 0, `Sendblue answered status ${status}`) };
  const handle = json.message_handle;
  if (typeof handle !== 'string' || handle === '') return retryOutcome(`Sendblue answered ${res.status} without a message_handle`);
  return { kind: 'accepted', providerMessageId: handle, status: status === 'SENT' ? 'sent' : 'pending' };
}
