import { invalid, missing, notFound, RoostError } from '../domain/errors.js';
import { newId, parseId } from '../domain/ids.js';
import type { WebhookId } from '../domain/ids.js';
import { WEBHOOK_EVENTS } from '../domain/records.js';
import type { Webhook, WebhookEventType, Workspace } from '../domain/records.js';
import type { Clock } from '../domain/time.js';
import { checkTargetUrl } from '../net/address-guard.js';
import type { Store, Tx } from '../store/store.js';

export interface WebhookDeps {
  store: Store;
  clock: Clock;
  allowPrivateUrls: boolean;
}

/** Per workspace, as the AsyncAPI document (seed 002) states for MessageBird accounts. */
export const MAX_CHANNEL_WEBHOOKS = 10;
export const MAX_GENERIC_WEBHOOKS = 5;

type Body = Record<string, unknown>;

function parseUrl(deps: WebhookDeps, raw: unknown): string {
  if (raw === undefined || raw === null || raw === '') throw missing('url');
  if (typeof raw !== 'string' || raw.length > 2048) throw invalid('url', 'must be a URL of at most 2048 characters');
  const reason = checkTargetUrl(raw, deps.allowPrivateUrls, { requireHttps: true });
  if (reason) throw invalid('url', reason);
  if (raw.includes('#')) throw invalid('url', 'must not contain a fragment');
  // Stored in the exact form it is requested in, so the signed url_hash matches what the
  // receiver sees (an empty query and unescaped characters are normalised away).
  const url = new URL(raw);
  if (url.search === '?' || url.search === '') url.search = '';
  return url.href;
}

function parseEvents(raw: unknown): WebhookEventType[] {
  if (raw === undefined || raw === null) throw missing('events');
  if (!Array.isArray(raw) || raw.length === 0) throw invalid('events', 'must be a non-empty list of event names');
  for (const e of raw) {
    if (typeof e !== 'string' || !(WEBHOOK_EVENTS as readonly string[]).includes(e)) {
      throw invalid('events', `contains ${JSON.stringify(e)}; allowed: ${WEBHOOK_EVENTS.join(', ')}`);
    }
  }
  return [...new Set(raw as WebhookEventType[])];
}

function parseSettings(raw: unknown): Record<string, unknown> | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid('settings', 'must be an object');
  return raw as Record<string, unknown>;
}

async function parseChannelId(tx: Tx, ws: Workspace, raw: unknown) {
  if (raw === undefined || raw === null || raw === '') return null;
  const id = parseId<'channel'>(raw);
  if (!id || !(await tx.getChannel(ws.id, id))) throw invalid('channelId', 'does not name a channel of this workspace');
  return id;
}

async function checkLimits(tx: Tx, ws: Workspace, channelSpecific: boolean, excluding?: Webhook) {
  const counts = await tx.countWebhooks(ws.id);
  if (excluding) {
    if (excluding.channelId) counts.channelSpecific--;
    else counts.generic--;
  }
  if (channelSpecific && counts.channelSpecific >= MAX_CHANNEL_WEBHOOKS) {
    throw new RoostError('limit_exceeded', `at most ${MAX_CHANNEL_WEBHOOKS} channel-specific webhooks per workspace`, 'channelId');
  }
  if (!channelSpecific && counts.generic >= MAX_GENERIC_WEBHOOKS) {
    throw new RoostError('limit_exceeded', `at most ${MAX_GENERIC_WEBHOOKS} generic webhooks per workspace`, 'channelId');
  }
}

export async function createWebhook(deps: WebhookDeps, ws: Workspace, body: Body): Promise<Webhook> {
  const url = parseUrl(deps, body.url);
  const events = parseEvents(body.events);
  const settings = parseSettings(body.settings);
  return deps.store.transaction(async (tx) => {
    const channelId = await parseChannelId(tx, ws, body.channelId);
    await checkLimits(tx, ws, channelId !== null);
    const webhook: Webhook = {
      id: newId(),
      workspaceId: ws.id,
      channelId,
      url,
      events,
      status: 'enabled',
      settings,
      firstFailureAt: null,
      disabledReason: null,
      createdAt: deps.clock.now(),
      updatedAt: null,
    };
    await tx.insertWebhook(webhook);
    return webhook;
  });
}

export async function updateWebhook(deps: WebhookDeps, ws: Workspace, id: WebhookId, body: Body): Promise<Webhook> {
  const url = body.url === undefined ? undefined : parseUrl(deps, body.url);
  const events = body.events === undefined ? undefined : parseEvents(body.events);
  const settings = body.settings === undefined ? undefined : parseSettings(body.settings);
  if (body.status !== undefined && body.status !== 'enabled' && body.status !== 'disabled') {
    throw invalid('status', 'must be enabled or disabled');
  }
  return deps.store.transaction(async (tx) => {
    const current = await tx.getWebhook(ws.id, id);
    if (!current) throw notFound('webhook');
    const channelId = body.channelId === undefined ? current.channelId : await parseChannelId(tx, ws, body.channelId);
    if ((channelId === null) !== (current.channelId === null)) await checkLimits(tx, ws, channelId !== null, current);
    const status = (body.status as Webhook['status'] | undefined) ?? current.status;
    // Enabling again (after Roost disabled it, or by hand) starts with a clean health record.
    const reenabled = status === 'enabled' && current.status === 'disabled';
    const updated: Webhook = {
      ...current,
      firstFailureAt: reenabled ? null : current.firstFailureAt,
      disabledReason: status === 'enabled' ? null : current.disabledReason,
      channelId,
      url: url ?? current.url,
      events: events ?? current.events,
      status,
      settings: settings === undefined ? current.settings : settings,
      updatedAt: deps.clock.now(),
    };
    await tx.updateWebhook(updated);
    return updated;
  });
}

export async function deleteWebhook(deps: WebhookDeps, ws: Workspace, id: WebhookId): Promise<void> {
  const deleted = await deps.store.transaction((tx) => tx.deleteWebhook(ws.id, id));
  if (!deleted) throw notFound('webhook');
}
