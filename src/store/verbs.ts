import type { Reads, Writes } from './store.js';

/**
 * Every Tx method by name, checked against the interfaces at compile time (a verb added
 * to `Reads` or `Writes` must be listed here): what a transaction proxied to another
 * thread may call, and what a reader connection delegates.
 */
export const READ_VERBS = {
  findAccessKey: true, getWorkspace: true, countWorkspaces: true, getDefaultWorkspace: true,
  getChannel: true, getChannelForInbound: true, getChannels: true, listChannels: true, getContact: true,
  getContacts: true, findContactByIdentifier: true, getContactIdentifiers: true, inboundContext: true,
  getConversation: true, findActiveConversation: true, listConversations: true, getMessage: true,
  findMessageByProviderId: true, listMessages: true, pageMessages: true, getWebhook: true, listWebhooks: true,
  countWebhooks: true, matchingWebhooks: true, listDeliveries: true, getDelivery: true, listAttempts: true,
  getEvent: true, nextDeliveryDue: true, nextSendJobDue: true, countEvents: true, listEvents: true,
} as const satisfies Record<keyof Reads, true>;

export const WRITE_VERBS = {
  insertWorkspace: true, setSigningKey: true, insertAccessKey: true, deleteAccessKeys: true,
  insertChannel: true, updateChannel: true, insertContact: true, addContactIdentifier: true,
  insertConversation: true, updateConversation: true, insertMessage: true, appendMessage: true,
  updateMessageStatus: true, insertSendJob: true, claimSendJobs: true, deleteSendJob: true,
  rescheduleSendJob: true, insertWebhook: true, updateWebhook: true, deleteWebhook: true, insertEvent: true,
  insertDelivery: true, claimDeliveries: true, unclaimDeliveries: true, recordAttempt: true,
  finishDelivery: true, retryDelivery: true, setWebhookHealth: true, disableWebhook: true,
  recoverDeliveries: true, rememberReplayKey: true, releaseLeases: true,
} as const satisfies Record<keyof Writes, true>;

export type ReadVerb = keyof Reads;
export type TxVerb = keyof Reads | keyof Writes;

export const readVerbs = Object.keys(READ_VERBS) as ReadVerb[];
export const txVerbs = [...readVerbs, ...Object.keys(WRITE_VERBS)] as TxVerb[];
