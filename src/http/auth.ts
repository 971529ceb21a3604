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

/** `Authorization: AccessKey <key>` (seed 004). Any failure is code 2, 401, and says nothing about why. */
export function accessKeyAuth(store: Store) {
  return async function authenticate(req: FastifyRequest): Promise<void> {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? SCHEME.exec(header) : null;
    if (!match) throw new RoostError('unauthorized', 'Request not allowed (incorrect access_key)', 'access_key');
    const hash = hashAccessKey(match[1]!);
    const found = await store.findAccessKey(hash);
    // The row was found by this hash; the constant-time compare documents the invariant.
    if (!found || !timingSafeEqual(hash, hashAccessKey(match[1]!))) {
      throw new RoostError('unauthorized', 'Request not allowed (incorrect access_key)', 'access_key');
    }
    req.caller = { workspace: found.workspace, mode: found.mode };
  };
}
