import pino from 'pino';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { systemClock } from './domain/time.js';
import type { Clock } from './domain/time.js';
import type { Channel } from './domain/records.js';
import { channelContext } from './channels/channel-context.js';
import { connectorFor, connectors } from './channels/registry.js';
import type { Config } from './config.js';
import { buildApp } from './http/app.js';
import { ensureDefaultWorkspace } from './management/workspaces.js';
import type { NewSecrets } from './management/workspaces.js';
import { createHttpClient } from './net/http-client.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { createMetrics } from './metrics.js';
import { SendWorker } from './send/send-worker.js';
import { openStore } from './store/open-store.js';
import type { WorkspaceId } from './domain/ids.js';
import type { Store } from './store/store.js';

export interface Roost {
  app: FastifyInstance;
  store: Store;
  url: string;
  publicUrl: string;
  secrets: NewSecrets;
  /** The default workspace's id: the `{workspaceId}` of Bird's paths for its keys. */
  workspaceId: WorkspaceId;
  stop(): Promise<void>;
}

/** Log redaction: secrets never reach the log, whatever a handler logs. */
const REDACT = ['req.headers.authorization', 'headers.authorization', '*.apiSecretKey', '*.signingSecret', '*.signingKey', '*.secrets'];

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } });
}

/**
 * The composition root: config -> store -> services -> HTTP and workers. Nothing else
 * constructs engines or clients. Shutdown runs in the reverse order: stop accepting and
 * let in-flight requests finish, stop claiming and let in-flight sends be recorded,
 * close outbound pools, then close the store after its last group commit.
 */
export async function startRoost(config: Config, opts: { clock?: Clock; log?: Logger } = {}): Promise<Roost> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger(config);
  const store: Store = await openStore(config.database);
  const boot = await ensureDefaultWorkspace(store, clock, config);
  // One node owns an SQLite file: leases left by a previous (crashed) process are void.
  // PostgreSQL is shared by several nodes, whose leases simply expire.
  if (store.engine === 'sqlite') await store.transaction((tx) => tx.releaseLeases(clock.now()));
  const metrics = createMetrics();

  let publicUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
  let ready = false;
  const http = createHttpClient({
    allowPrivate: config.allowPrivateUrls,
    defaultTimeoutMs: config.outboundTimeoutMs,
    maxResponseBytes: 64 * 1024,
    // As many sockets as one webhook may have requests in flight: fewer would make the
    // socket pool, not ROOST_DELIVERY_PER_WEBHOOK, the cap (Little's law under load).
    connectionsPerOrigin: Math.max(config.webhook.perWebhook, config.sendConcurrency),
  });
  const contextFor = (channel: Channel) => channelContext(channel, publicUrl);

  const sendWorker = new SendWorker({
    store, http, clock, log, connectorFor, contextFor,
    concurrency: config.sendConcurrency,
    pollIntervalMs: config.pollIntervalMs,
    leaseMs: Math.max(60_000, config.outboundTimeoutMs * 3),
    simulatedStepMs: config.simulatedStepMs,
    onCommitted: () => dispatcher.notify(),
  });

  const dispatcher = new Dispatcher({
    store, http, clock, log, metrics,
    policy: {
      retry: { scheduleMs: config.webhook.retryScheduleMs, jitter: 0.2, retryAfterCapMs: 86_400_000 },
      overloadFloorMs: config.webhook.overloadFloorMs,
      disableAfterMs: config.webhook.disableAfterMs,
    },
    concurrency: config.webhook.concurrency,
    perWebhook: config.webhook.perWebhook,
    timeoutMs: config.webhook.timeoutMs,
    pollIntervalMs: config.pollIntervalMs,
    // An attempt never outlives its timeout; three timeouts of lease leave room for a stalled loop.
    leaseMs: Math.max(5_000, config.webhook.timeoutMs * 3),
  });

  const app = buildApp({
    store, clock, log,
    publicUrl: () => publicUrl,
    allowPrivateUrls: config.allowPrivateUrls,
    bodyLimitBytes: config.bodyLimitBytes,
    connectorFor,
    platforms: () => [...connectors.keys()],
    contextFor,
    notifySendWorker: () => {
      sendWorker.notify();
      dispatcher.notify();
    },
    onEventsCommitted: () => dispatcher.notify(),
    isReady: () => ready,
    metrics,
    http,
    manual: { store, http, clock, metrics, timeoutMs: config.webhook.timeoutMs },
  });

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}`;
  if (!config.publicUrl) publicUrl = url;
  sendWorker.start();
  dispatcher.start();
  ready = true;
  log.info({ url, publicUrl, engine: store.engine, roles: ['api', 'send-worker', 'delivery'] }, 'roost ready');

  let stopping: Promise<void> | null = null;
  return {
    app, store, url, publicUrl, secrets: boot.secrets, workspaceId: boot.workspace.id,
    stop() {
      stopping ??= (async () => {
        ready = false;
        await app.close();
        await Promise.all([sendWorker.stop(), dispatcher.stop()]);
        await http.close();
        await store.close();
        log.info('roost stopped');
      })();
      return stopping;
    },
  };
}
