import { randomBytes } from 'node:crypto';
import { invalid, missing, notFound, RoostError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { ChannelId } from '../domain/ids.js';
import type { Channel, ChannelStatus, Workspace } from '../domain/records.js';
import type { Clock } from '../domain/time.js';
import { CALLBACK_KEY } from '../channels/channel-context.js';
import type { ChannelContext, Connector } from '../channels/connector.js';
import { checkTargetUrl } from '../net/address-guard.js';
import type { HttpClient } from '../net/http-client.js';
import type { Store } from '../store/store.js';

export interface ChannelDeps {
  store: Store;
  clock: Clock;
  http: HttpClient;
  connectorFor(platformId: string): Connector | undefined;
  platforms(): string[];
  contextFor(channel: Channel): ChannelContext;
  /** ROOST_ALLOW_PRIVATE_URLS: a provider `baseUrl` on a private address is refused unless set. */
  allowPrivateUrls: boolean;
}

type Body = Record<string, unknown>;

function settingsObject(body: Body): Record<string, unknown> {
  const s = body.settings;
  if (s === undefined || s === null) return {};
  if (typeof s !== 'object' || Array.isArray(s)) throw invalid('settings', 'must be an object');
  return s as Record<string, unknown>;
}

/**
 * A provider API on a private address is refused where it is set, as webhook URLs are,
 * rather than only when a send is refused at connect time.
 */
function checkBaseUrl(settings: Record<string, unknown>, allowPrivate: boolean): void {
  if (typeof settings.baseUrl !== 'string') return;
  const reason = checkTargetUrl(settings.baseUrl, allowPrivate, { requireHttps: false });
  if (reason !== undefined) throw invalid('settings.baseUrl', reason);
}

function nameOf(body: Body, fallback?: string): string {
  const name = body.name;
  if (name === undefined || name === null || name === '') {
    if (fallback !== undefined) return fallback;
    throw missing('name');
  }
  if (typeof name !== 'string' || name.length > 200) throw invalid('name', 'must be a string of at most 200 characters');
  return name;
}

/** Secrets the core keeps on every channel, beside the connector's own. */
function withCoreSecrets(secrets: Record<string, string>, previous?: Record<string, string>): Record<string, string> {
  return { ...secrets, [CALLBACK_KEY]: previous?.[CALLBACK_KEY] ?? randomBytes(32).toString('base64url') };
}

function withoutCoreSecrets(secrets: Record<string, string>): Record<string, string> {
  const { [CALLBACK_KEY]: _omit, ...rest } = secrets;
  return rest;
}

export async function createChannel(deps: ChannelDeps, ws: Workspace, body: Body): Promise<Channel> {
  const platformId = body.platformId;
  if (platformId === undefined || platformId === null || platformId === '') throw missing('platformId');
  const connector = typeof platformId === 'string' ? deps.connectorFor(platformId) : undefined;
  if (!connector) throw invalid('platformId', `must be one of ${deps.platforms().join(', ')}`);
  const { settings, secrets } = connector.parseSettings(settingsObject(body));
  checkBaseUrl(settings, deps.allowPrivateUrls);
  const now = deps.clock.now();
  const channel: Channel = {
    id: newId(),
    workspaceId: ws.id,
    name: nameOf(body, connector.platform),
    platformId: connector.platform,
    status: 'active',
    settings,
    secrets: withCoreSecrets(secrets),
    createdAt: now,
    updatedAt: null,
  };
  // Provider-side registration (e.g. Telegram's setWebhook) before the channel exists:
  // a channel the provider refused is never half-created.
  await connector.register?.(deps.contextFor(channel), deps.http);
  await deps.store.transaction((tx) => tx.insertChannel(channel));
  return channel;
}

export async function updateChannel(deps: ChannelDeps, ws: Workspace, id: ChannelId, body: Body): Promise<Channel> {
  const current = await deps.store.getChannel(ws.id, id);
  if (!current) throw notFound('channel');
  if (body.platformId !== undefined && body.platformId !== current.platformId) {
    throw invalid('platformId', 'cannot be changed; create a new channel instead');
  }
  const connector = deps.connectorFor(current.platformId);
  if (!connector) throw new RoostError('internal', `no connector for ${current.platformId}`);
  let status: ChannelStatus = current.status;
  if (body.status !== undefined) {
    if (body.status !== 'active' && body.status !== 'inactive') throw invalid('status', 'must be active or inactive');
    status = body.status;
  }
  const parsed = body.settings === undefined
    ? { settings: current.settings, secrets: withoutCoreSecrets(current.secrets) }
    : connector.parseSettings(settingsObject(body), { settings: current.settings, secrets: withoutCoreSecrets(current.secrets) });
  if (body.settings !== undefined) checkBaseUrl(parsed.settings, deps.allowPrivateUrls);
  const updated: Channel = {
    ...current,
    name: nameOf(body, current.name),
    status,
    settings: parsed.settings,
    secrets: withCoreSecrets(parsed.secrets, current.secrets),
    updatedAt: deps.clock.now(),
  };
  if (body.settings !== undefined) await connector.register?.(deps.contextFor(updated), deps.http);
  await deps.store.transaction(async (tx) => {
    if (!(await tx.getChannel(ws.id, id))) throw notFound('channel');
    await tx.updateChannel(updated);
  });
  return updated;
}

/** Channels are retired, not erased: their messages keep pointing at them. */
export async function deleteChannel(deps: ChannelDeps, ws: Workspace, id: ChannelId): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const current = await tx.getChannel(ws.id, id);
    if (!current) throw notFound('channel');
    await tx.updateChannel({ ...current, status: 'deleted', updatedAt: deps.clock.now() });
  });
}
