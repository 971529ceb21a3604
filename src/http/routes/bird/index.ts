import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.js';
import { accessKeyAuth } from '../../auth.js';
import { toRoostError } from '../../errors.js';
import { answerUnrouted } from '../../framework-errors.js';
import { sendBirdError } from './errors.js';
import { birdMessageRoutes } from './messages.js';

/**
 * Bird's Conversations API (api.bird.com), as far as Roost serves it: a conversation's
 * messages, listed and read, under `/workspaces`. Access keys as on `/v1` (`AccessKey` or `Bearer`); the path's
 * workspace must be the key's. Errors in Bird's own body, not MessageBird's.
 */
export function birdRoutes(deps: AppDeps) {
  return async function (app: FastifyInstance) {
    app.decorateRequest('caller', null as never);
    app.setErrorHandler((err, req, reply) => sendBirdError(reply, toRoostError(err, req)));
    app.setNotFoundHandler((req, reply) => answerUnrouted(app, req, reply));
    app.addHook('onRequest', accessKeyAuth(deps.store, { bearer: true }));
    await app.register(birdMessageRoutes(deps));
  };
}
