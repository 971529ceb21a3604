import type { ConversationId } from '../domain/ids.js';
import type { Clock } from '../domain/time.js';
import type { Store } from '../store/store.js';
import {
  optionalChannelId, parseOutboundFields, requiredChannelId, requiredRecipient,
} from './outbound-request.js';
import { storeOutbound } from './store-outbound.js';
import type { Caller, OutboundTarget } from './store-outbound.js';

export type { Caller } from './store-outbound.js';

export interface OutboundDeps {
  store: Store;
  clock: Clock;
  /** Wakes the send worker after a commit, so hand-off does not wait for the next poll. */
  notifySendWorker(): void;
}

type Body = Record<string, unknown>;

/** Validates the request's own fields, then stores the message in one transaction (store-outbound.ts). */
async function submit(deps: OutboundDeps, caller: Caller, target: OutboundTarget, body: Body) {
  const fields = parseOutboundFields(body);
  const result = await deps.store.run(storeOutbound, { caller, target, fields, now: deps.clock.now() });
  deps.notifySendWorker();
  return result;
}

/** `POST /v1/conversations/start`: resumes the recipient's active conversation or opens one. */
export async function startConversation(deps: OutboundDeps, caller: Caller, body: Body) {
  const channelId = requiredChannelId(body, 'channelId');
  const rawTo = requiredRecipient(body, 'to');
  return submit(deps, caller, { kind: 'address', channelId, field: 'channelId', rawTo }, body);
}

/** `POST /v1/send`: like start, but `from` names the channel and the answer is the message. */
export async function sendMessage(deps: OutboundDeps, caller: Caller, body: Body) {
  const channelId = requiredChannelId(body, 'from');
  const rawTo = requiredRecipient(body, 'to');
  return submit(deps, caller, { kind: 'address', channelId, field: 'from', rawTo }, body);
}

/**
 * `POST /v1/conversations/{id}/messages`: replies on the named channel, else on the one the
 * contact last wrote from (else the one last used), in the contact's active conversation.
 */
export async function replyToConversation(deps: OutboundDeps, caller: Caller, conversationId: ConversationId, body: Body) {
  const channelId = optionalChannelId(body, 'channelId');
  return submit(deps, caller, { kind: 'conversation', conversationId, channelId }, body);
}
