import { mediaOf, textOf } from '../../domain/content.js';
import type { MessageError } from '../../domain/records.js';
import { HttpFailure } from '../../net/http-client.js';
import type { HttpClient, HttpResponse } from '../../net/http-client.js';
import type { OutboundRequest, SendOutcome } from '../connector.js';
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
    return { kind: 'failed', error: { code: 0, description: 'Twilio channel is missing its accountSid, authToken or fromNumber' } };
  }
  if ('hsm' in message.content) {
    return { kind: 'failed', error: { code: 0, description: 'Twilio channels cannot send hsm messages; send text or media instead' } };
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

  let res: HttpResponse;
  try {
    res = await http.request({
      url: `${config.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}/Messages.json`,
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`, 'utf8').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
    });
  } catch (err) {
    if (err instanceof HttpFailure && err.reason === 'refused_private_address') {
      return { kind: 'failed', error: { code: 0, description: `Twilio base URL refused: ${err.message}` } };
    }
    const why = err instanceof Error ? err.message : String(err);
    return { kind: 'retry', error: { code: 0, description: `Twilio unreachable: ${why}` } };
  }
  return outcomeOf(res);
}

function outcomeOf(res: HttpResponse): SendOutcome {
  const json = jsonObject(res.body);
  if (res.status >= 200 && res.status < 300) {
    const sid = json.sid;
    if (typeof sid !== 'string' || sid === '') {
      return { kind: 'retry', error: { code: 0, description: `Twilio answered ${res.status} without a message sid` } };
    }
    const wire = typeof json.status === 'string' ? json.status : '';
    const status = mapTwilioStatus(wire);
    if (status === 'failed') return { kind: 'failed', error: twilioCallbackError(wire, json.error_code, json.error_message) };
    // A new message is queued/accepted/scheduled; anything later than `sent` waits for its callback.
    const accepted = status === 'sent' || status === 'delivered' || status === 'read' ? 'sent' : 'pending';
    return { kind: 'accepted', providerMessageId: sid, status: accepted };
  }
  const error: MessageError = twilioApiError(json, res.status, `Twilio answered ${res.status}`);
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
