import { missing, RoostError } from '../../domain/errors.js';
import type { HttpClient, HttpResponse } from '../../net/http-client.js';
import type { ChannelContext } from '../connector.js';
import { jsonObject } from '../shared/json.js';
import { isSuccessStatus } from '../shared/send-outcome.js';
import { callBotApi, failureText } from './bot-api.js';
import { configOf } from './settings.js';

/** The update kinds Roost turns into messages; Telegram then sends nothing else. */
export const ALLOWED_UPDATES = ['message', 'edited_message'] as const;

/**
 * setWebhook (reference §2.1), before the channel is saved: Telegram is told to POST
 * updates to the channel's inbound URL with the channel's secret token. A refusal throws,
 * so no channel exists that Telegram would never call. Skipped with `registerWebhook: false`.
 */
export async function registerTelegramWebhook(ctx: ChannelContext, http: HttpClient): Promise<void> {
  const config = configOf(ctx.channel);
  if (!config.registerWebhook) return;
  if (!config.botToken) throw missing('settings.botToken');
  if (!config.secretToken) throw missing('settings.secretToken');

  let res: HttpResponse;
  try {
    res = await callBotApi(http, config.baseUrl, config.botToken, 'setWebhook', {
      url: ctx.inboundUrl,
      secret_token: config.secretToken,
      allowed_updates: ALLOWED_UPDATES,
    });
  } catch (err) {
    throw new RoostError(
      'invalid_parameter',
      `could not reach the Telegram Bot API at ${config.baseUrl} to set the webhook: ${failureText(err, config.botToken)}`,
      'settings.baseUrl',
    );
  }
  const json = jsonObject(res.body);
  if (isSuccessStatus(res.status) && json.ok === true) return;
  if (json.ok === false) {
    const description = typeof json.description === 'string' && json.description !== '' ? json.description.slice(0, 500) : `HTTP ${res.status}`;
    throw new RoostError('invalid_parameter', `Telegram refused setWebhook: ${description}`, 'settings.botToken');
  }
  throw new RoostError(
    'invalid_parameter',
    `the Telegram Bot API at ${config.baseUrl} answered setWebhook with HTTP ${res.status}, not a Bot API answer`,
    'settings.baseUrl',
  );
}
