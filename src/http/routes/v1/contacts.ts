import type { FastifyInstance } from 'fastify';
import { notFound } from '../../../domain/errors.js';
import { contactV1 } from '../../../domain/views-v1.js';
import type { AppDeps } from '../../app.js';
import { pathId } from './ids.js';

/** `GET /v1/contacts/{id}`: what the `href` of a conversation's contact points at. */
export function contactRoutes(deps: AppDeps) {
  return async function (app: FastifyInstance) {
    app.get<{ Params: { id: string } }>('/contacts/:id', async (req) => {
      const contact = await deps.store.getContact(req.caller.workspace.id, pathId(req.params.id, 'contact'));
      if (!contact) throw notFound('contact');
      return contactV1(contact, deps.publicUrl());
    });
  };
}
