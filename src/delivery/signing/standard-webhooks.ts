import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks v1 (`webhook-id`, `webhook-timestamp`, `webhook-signature`): base64
 * HMAC-SHA256 over `id.timestamp.body`. Roost keys it with the signing key's UTF-8 bytes,
 * so a receiver verifies with the secret `whsec_` + base64(signing key).
 */
export function signStandardWebhook(id: string, timestampSeconds: number, body: Buffer | string, key: Buffer): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** The `whsec_` secret a Standard Webhooks verifier needs for a Roost signing key. */
export function standardWebhooksSecret(signingKey: string): string {
  return `whsec_${Buffer.from(signingKey, 'utf8').toString('base64')}`;
}
