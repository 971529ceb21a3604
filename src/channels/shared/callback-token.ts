import type { ChannelContext, InboundRequest } from '../connector.js';

/**
 * The Roost message id in a status-callback URL (`?message=&token=`, as
 * ChannelContext.statusCallbackUrl makes it), when its token checks out. Only then may a
 * callback name the message it updates: the id alone is not secret.
 */
export function callbackMessageId(req: InboundRequest, ctx: ChannelContext): string | undefined {
  const { message, token } = req.query;
  if (!message || !token) return undefined;
  return ctx.verifyCallbackToken(message, token) ? message : undefined;
}
