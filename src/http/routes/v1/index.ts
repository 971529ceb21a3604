import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.js';
import { accessKeyAuth } from '../../auth.js';
import { channelRoutes } from './channels.js';
import { contactRoutes } from './contacts.js';
import { conversationRoutes } from './conversations.js';
import { messageRoutes } from './messages.js';
import { deliveryRoutes } from './deliveries.js';
import { signingKeyRoutes } from './signing-key.js';
import { webhookRoutes } from './webhooks.js';

/** The MessageBird Conversations API v1 surface, every route behind `Authorization: AccessKey`. */
export function v1Routes(deps: AppDeps) {
  return async function (app: FastifyInstance) {
    app.decorateRequest('caller', null as never);
    app.addHook('onRequest', accessKeyAuth(deps.store));
    await app.register(channelRoutes(deps));
    await app.register(contactRoutes(deps));
    await app.register(conversationRoutes(deps));
    await app.register(messageRoutes(deps));
    await app.register(webhookRoutes(deps));
    await app.register(deliveryRoutes(deps));
    await app.register(signingKeyRoutes(deps));
  };
}
