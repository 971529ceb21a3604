import type { Media, MessageContent } from '../../domain/content.js';
import type { Message, MessageError } from '../../domain/records.js';
import type { HttpClient, HttpResponse } from '../../net/http-client.js';
import type { OutboundRequest, SendOutcome } from '../connector.js';
import { JSON_HEADERS, jsonObject } from '../shared/json.js';
import { failedOutcome, isSuccessStatus, isTransientStatus, refusedOutcome, retryOutcome, sendRequest } from '../shared/send-outcome.js';
import { opaqueDataFor } from './opaque-data.js';
import { configOf } from './settings.js';
import { TRANSIENT_CODES, metaError } from './status-map.js';

type Obj = Record<string, unknown>;

/**
 * POST {baseUrl}/{phoneNumberId}/messages with `Authorization: Bearer <accessToken>`
 * (reference §3.5). Never throws: every failure is an outcome.
 */
export async function sendViaWhatsApp(req: OutboundRequest, http: HttpClient): Promise<SendOutcome> {
  const { message, channel, ctx } = req;
  const config = configOf(channel);
  if (!config.phoneNumberId || !config.accessToken) return failedOutcome('WhatsApp channel is missing its phoneNumberId or accessToken');
  const payload = payloadOf(message);
  if ('error' in payload) return { kind: 'failed', error: payload.error };
  const body = {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: message.to.replace(/^\+/, ''),
    ...payload.fields,
    // Echoed in this message's status notifications: finds the message even before its wamid is stored.
    biz_opaque_callback_data: opaqueDataFor(ctx, message.id),
  };

  const headers = { authorization: `Bearer ${config.accessToken}`, ...JSON_HEADERS };
  const url = `${config.baseUrl}/${encodeURIComponent(config.phoneNumberId)}/messages`;
  return sendRequest('WhatsApp', () => http.request({ url, method: 'POST', headers, body: JSON.stringify(body) }), outcomeOf);
}

/** The `type` and its object for one Roost message. */
function payloadOf(message: Message): { fields: Obj } | { error: MessageError } {
  const c: MessageContent = message.content;
  if ('text' in c) return { fields: { type: 'text', text: { body: c.text, preview_url: false } } };
  if ('image' in c) return { fields: { type: 'image', image: linkWithCaption(c.image) } };
  if ('video' in c) return { fields: { type: 'video', video: linkWithCaption(c.video) } };
  // WhatsApp audio messages carry no caption.
  if ('audio' in c) return { fields: { type: 'audio', audio: { link: c.audio.url } } };
  if ('file' in c) {
    const document: Obj = linkWithCaption(c.file);
    const filename = filenameOf(c.file.url);
    if (filename !== undefined) document.filename = filename;
    return { fields: { type: 'document', document } };
  }
  if ('location' in c) return { fields: { type: 'location', location: { latitude: c.location.latitude, longitude: c.location.longitude } } };
  return templateOf(c.hsm);
}

function linkWithCaption(media: Media): Obj {
  return media.caption !== undefined && media.caption !== '' ? { link: media.url, caption: media.caption } : { link: media.url };
}

/** The last path segment of a document URL when it looks like a file name (`report.pdf`). */
function filenameOf(url: string): string | undefined {
  try {
    const last = new URL(url).pathname.split('/').pop() ?? '';
    const name = decodeURIComponent(last);
    return /^[^/\\]{1,200}\.[A-Za-z0-9]{1,8}$/.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A MessageBird `hsm` as a WhatsApp template message: `templateName`, `language.code`
 * and `params[].default` as body parameters, or `components` given as WhatsApp expects them.
 */
function templateOf(hsm: Record<string, unknown>): { fields: Obj } | { error: MessageError } {
  const name = hsm.templateName;
  const language = typeof hsm.language === 'object' && hsm.language !== null ? (hsm.language as Obj).code : hsm.language;
  if (typeof name !== 'string' || name === '' || typeof language !== 'string' || language === '') {
    return { error: { code: 0, description: 'hsm needs templateName and language.code to be sent as a WhatsApp template' } };
  }
  const template: Obj = { name, language: { code: language } };
  if (Array.isArray(hsm.components)) {
    template.components = hsm.components;
  } else if (Array.isArray(hsm.params) && hsm.params.length > 0) {
    const parameters = [];
    for (const p of hsm.params) {
      const value = typeof p === 'object' && p !== null ? (p as Obj).default : undefined;
      if (typeof value !== 'string') return { error: { code: 0, description: 'hsm params must each have a default text to be sent as a WhatsApp template' } };
      parameters.push({ type: 'text', text: value });
    }
    template.components = [{ type: 'body', parameters }];
  }
  return { fields: { type: 'template', template } };
}

function outcomeOf(res: HttpResponse): SendOutcome {
  const json = jsonObject(res.body);
  if (isSuccessStatus(res.status)) {
    const [first] = Array.isArray(json.messages) ? json.messages : [];
    const id = typeof first === 'object' && first !== null ? (first as Obj).id : undefined;
    if (typeof id !== 'string' || id === '') return retryOutcome(`WhatsApp answered ${res.status} without a message id`);
    return { kind: 'accepted', providerMessageId: id, status: 'accepted' };
  }
  const err = typeof json.error === 'object' && json.error !== null ? (json.error as Obj) : {};
  const error = metaError(err, res.status, `WhatsApp answered ${res.status}`);
  return refusedOutcome(res, error, { transient: isTransientStatus(res.status) || TRANSIENT_CODES.has(error.code) });
}
