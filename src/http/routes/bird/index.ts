import type { FastifyInstance } from 'fastify';
import { RoostError } from '../../../domain/errors.js';
import type { AppDeps } from '../../app.js';
import { accessKeyAuth } from '../../auth.js';
import { toRoostError } from '../../errors.js';
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
    app.setNotFoundHandler((req, reply) => sendBirdError(reply, new RoostError('api_not_found', `API not found: ${req.method} ${req.url.split('?')[0]}`)));
    app.addHook('onRequest', accessKeyAuth(deps.store, { bearer: true }));
    await app.register(birdMessageRoutes(deps));
  };
}
