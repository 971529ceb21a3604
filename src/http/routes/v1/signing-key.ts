import type { FastifyInstance } from 'fastify';
import { RoostError } from '../../../domain/errors.js';
import { regenerateSigningKey } from '../../../management/workspaces.js';
import type { AppDeps } from '../../app.js';

export function signingKeyRoutes(deps: AppDeps) {
  return async function (app: FastifyInstance) {
    /** Live keys only: a test key must not be able to break production webhook verification. */
    app.post('/signing-key/regenerate', async (req) => {
      if (req.caller.mode !== 'live') throw new RoostError('forbidden', 'a live access key is required to regenerate the signing key', 'access_key');
      return { signingKey: await regenerateSigningKey(deps.store, req.caller.workspace) };
    });
  };
}
