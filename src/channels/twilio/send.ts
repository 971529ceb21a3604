import { mediaOf, textOf } from '../../domain/content.js';
import type { HttpClient, HttpResponse } from '../../net/http-client.js';
import type { OutboundRequest, SendOutcome } from '../connector.js';
import { jsonObject } from '../shared/json.js';
import { failedOutcome, isSuccessStatus, refusedOutcome, retryOutcome, sendRequest } from '../shared/send-outcome.js';
import { configOf } from './settings.js';
import { mapTwilioStatus, twilioApiError, twilioCallbackError } from './status-map.js';

/**
 * POST {baseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded with Basic
 * auth (reference §1.3). A WhatsApp sender puts `whatsapp:` in front of From and To.
 * Never throws: every failure is an outcome.
 */
export async function sendViaTwilio(req: OutboundRequest, http: HttpClient): Promise<SendOutcome> {
  const { message, channel, ctx } = req;
  const config = configOf(channel);
  if (!config.accountSid || !config.authToken || !config.fromNumber) {
    return failedOutcome('Twilio channel is missing its accountSid, authToken or fromNumber');
  }
  if ('hsm' in message.content) {
    return failedOutcome('Twilio channels cannot send hsm messages; send text or media instead');
  }

  const form = new URLSearchParams();
  form.set('To', config.whatsapp ? `whatsapp:${message.to}` : message.to);
  form.set('From', config.fromNumber);
  const text = textOf(message.content);
  if (text !== '') form.set('Body', text);
  const media = mediaOf(message.content);
  if (media !== undefined) form.set('MediaUrl', media.url);
  if ('location' in message.content && config.whatsapp) {
    // WhatsApp shows a location pin for a `geo:` persistent action (Twilio "Send location messages").
    form.set('PersistentAction', `geo:${message.content.location.latitude},${message.content.location.longitude}`);
  }
  form.set('StatusCallback', ctx.statusCallbackUrl(message.id));

  const headers = {
    authorization: `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`, 'utf8').toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  const url = `${config.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}/Messages.json`;
  return sendRequest('Twilio', () => http.request({ url, method: 'POST', headers, body: form.toString() }), outcomeOf);
}

function outcomeOf(res: HttpResponse): SendOutcome {
  const json = jsonObject(res.body);
  if (!isSuccessStatus(res.status)) return refusedOutcome(res, twilioApiError(json, res.status, `Twilio answered ${res.status}`));
  const sid = json.sid;
  if (typeof sid !== 'string' || sid === '') return retryOutcome(`Twilio answered ${res.status} without a message sid`);
  const wire = typeof json.status === 'string' ? json.status : '';
  const status = mapTwilioStatus(wire);
  if (status === 'failed') return { kind: 'failed', error: twilioCallbackError(wire, json.error_code, json.error_message) };
  // A new message is queued/accepted/scheduled; anything later than `sent` waits for its callback.
  const accepted = status === 'sent' || status === 'delivered' || status === 'read' ? 'sent' : 'pending';
  return { kind: 'accepted', providerMessageId: sid, status: accepted };
}
