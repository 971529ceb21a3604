import { generateAccessKey, generateSigningKey, hashAccessKey, modeOfKey } from '../auth/access-keys.js';
import { newId } from '../domain/ids.js';
import type { Workspace } from '../domain/records.js';
import type { Clock } from '../domain/time.js';
import type { Store, Tx } from '../store/store.js';

/** Secrets shown once, when Roost made them; never stored in clear, never logged. */
export interface NewSecrets {
  liveKey?: string;
  testKey?: string;
  signingKey?: string;
}

async function addKey(tx: Tx, ws: Workspace, key: string, now: number) {
  await tx.insertAccessKey({ id: newId(), workspaceId: ws.id, keyHash: hashAccessKey(key), mode: modeOfKey(key), createdAt: now });
}

/** Creates a workspace with a fresh live key, test key and signing key. */
export async function createWorkspace(store: Store, clock: Clock, name: string): Promise<{ workspace: Workspace; secrets: Required<NewSecrets> }> {
  const now = clock.now();
  const workspace: Workspace = { id: newId(), name, signingKey: generateSigningKey(), createdAt: now };
  const secrets = { liveKey: generateAccessKey('live'), testKey: generateAccessKey('test'), signingKey: workspace.signingKey };
  await store.transaction(async (tx) => {
    await tx.insertWorkspace(workspace);
    await addKey(tx, workspace, secrets.liveKey, now);
    await addKey(tx, workspace, secrets.testKey, now);
  });
  return { workspace, secrets };
}

/**
 * Makes the default workspace match the configuration. With ROOST_ACCESS_KEY and/or
 * ROOST_TEST_ACCESS_KEY set, it accepts exactly those keys; on a first start without
 * them, Roost makes a live key and a test key and returns them to be printed once.
 */
export async function ensureDefaultWorkspace(
  store: Store, clock: Clock,
  configured: { accessKey: string | null; testAccessKey: string | null; signingKey: string | null },
): Promise<{ workspace: Workspace; secrets: NewSecrets }> {
  const now = clock.now();
  const keysConfigured = configured.accessKey !== null || configured.testAccessKey !== null;
  return store.transaction(async (tx) => {
    const secrets: NewSecrets = {};
    let workspace = await tx.getDefaultWorkspace();
    if (!workspace) {
      const signingKey = configured.signingKey ?? generateSigningKey();
      if (configured.signingKey === null) secrets.signingKey = signingKey;
      workspace = { id: newId(), name: 'default', signingKey, createdAt: now };
      await tx.insertWorkspace(workspace);
      if (!keysConfigured) {
        secrets.liveKey = generateAccessKey('live');
        secrets.testKey = generateAccessKey('test');
        await addKey(tx, workspace, secrets.liveKey, now);
        await addKey(tx, workspace, secrets.testKey, now);
      }
    } else if (configured.signingKey !== null && configured.signingKey !== workspace.signingKey) {
      await tx.setSigningKey(workspace.id, configured.signingKey);
      workspace = { ...workspace, signingKey: configured.signingKey };
    }
    if (keysConfigured) {
      await tx.deleteAccessKeys(workspace.id);
      if (configured.accessKey !== null) await addKey(tx, workspace, configured.accessKey, now);
      if (configured.testAccessKey !== null) await addKey(tx, workspace, configured.testAccessKey, now);
    }
    return { workspace, secrets };
  });
}

/**
 * Replaces the workspace's webhook signing key ("What if my signing secret has been
 * compromised?", seed 004) and returns the new one, shown this once. Deliveries signed
 * from now on, retries included, use the new key.
 */
export async function regenerateSigningKey(store: Store, ws: Workspace): Promise<string> {
  const key = generateSigningKey();
  await store.transaction((tx) => tx.setSigningKey(ws.id, key));
  return key;
}
