import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { RoostError } from '../domain/errors.js';
import { hashAccessKey } from '../auth/access-keys.js';
import type { Caller } from '../send/outbound.js';
import type { Store } from '../store/store.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

const SCHEME = /^AccessKey\s+(\S+)\s*$/i;
/** Bird's API also takes its keys as `Bearer` (its generated samples show that form). */
const SCHEME_OR_BEARER = /^(?:AccessKey|Bearer)\s+(\S+)\s*$/i;

/**
 * `Authorization: AccessKey <key>` (seed 004), and `Bearer <key>` where `bearer` (Bird).
 * Any failure is code 2, 401, and says nothing about why.
 */
export function accessKeyAuth(store: Store, { bearer = false }: { bearer?: boolean } = {}) {
  const scheme = bearer ? SCHEME_OR_BEARER : SCHEME;
  return async function authenticate(req: FastifyRequest): Promise<void> {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? scheme.exec(header) : null;
    if (!match) throw new RoostError('unauthorized', 'Request not allowed (incorrect access_key)', 'access_key');
    const hash = hashAccessKey(match[1]!);
    const found = await store.findAccessKey(hash);
    // The index lookup already matched the hash; the stored one is compared again in
    // constant time so that no equality on secret-derived bytes depends on timing.
    if (!found || found.keyHash.length !== hash.length || !timingSafeEqual(found.keyHash, hash)) {
      throw new RoostError('unauthorized', 'Request not allowed (incorrect access_key)', 'access_key');
    }
    req.caller = { workspace: found.workspace, mode: found.mode };
  };
}
