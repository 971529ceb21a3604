import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../domain/time.js';
import type { Channel } from '../domain/records.js';
import type { ChannelContext, Connector } from '../channels/connector.js';
import type { ManualDeps } from '../delivery/manual.js';
import type { Metrics } from '../metrics.js';
import type { HttpClient } from '../net/http-client.js';
import type { Store } from '../store/store.js';
import { decodeContentEncoding } from './content-encoding.js';
import { sendError, toRoostError } from './errors.js';
import { answerUnrouted, clientErrorHandler, frameworkErrors, refuseWhileClosing } from './framework-errors.js';
import { lazyChildLogger } from './lazy-child-logger.js';
import { applyMethodOverride } from './method-override.js';
import { birdRoutes } from './routes/bird/index.js';
import { inboundRoutes } from './routes/inbound.js';
import { v1Routes } from './routes/v1/index.js';

export interface AppDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  publicUrl: () => string;
  allowPrivateUrls: boolean;
  bodyLimitBytes: number;
  connectorFor(platformId: string): Connector | undefined;
  platforms(): string[];
  contextFor(channel: Channel): ChannelContext;
  notifySendWorker(): void;
  onEventsCommitted(): void;
  isReady(): boolean;
  manual: ManualDeps;
  http: HttpClient;
  metrics: Metrics;
}

/**
 * Builds the un-started Fastify app. Bodies are kept raw (a Buffer) for every content
 * type: provider signatures are computed over the exact bytes, and the v1 routes parse
 * JSON themselves so that every failure gets MessageBird's error body.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  // Once closing, a request (on a connection kept alive) is refused with 503 code 100 here,
  // in the errors body, instead of by Fastify's `return503OnClosing` in its own shape.
  let closing = false;
  const app = Fastify({
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: deps.bodyLimitBytes,
    return503OnClosing: false,
    frameworkErrors,
    clientErrorHandler,
    forceCloseConnections: false,
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
      createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
        if (closing) return refuseWhileClosing(req.url, res);
        applyMethodOverride(req);
        handler(req, res);
      }),
  });
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  app.addHook('preParsing', decodeContentEncoding);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, req, reply) => {
    sendError(reply, toRoostError(err, req));
  });
  app.setNotFoundHandler((req, reply) => answerUnrouted(app, req, reply));

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) =>
    deps.isReady() ? { status: 'ready' } : reply.code(503).send({ status: 'starting' }));

  app.get('/metrics', async (_req, reply) =>
    reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()));

  app.register(v1Routes(deps), { prefix: '/v1' });
  app.register(inboundRoutes(deps), { prefix: '/inbound' });
  app.register(birdRoutes(deps), { prefix: '/workspaces' });
  return app;
}
