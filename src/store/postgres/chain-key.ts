/** The advisory-lock key of a delivery chain (webhook, conversation): one expression for every lock. */
export function chainKey(webhookId: string, conversationId: string): string {
  return `hashtextextended(${webhookId} || ':' || ${conversationId}, 0)`;
}
