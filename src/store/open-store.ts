import type { Config } from '../config.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/** Opens the configured engine, applying its migrations. */
export async function openStore(database: Config['database']): Promise<Store> {
  return database.engine === 'sqlite' ? new SqliteStore(database.path) : PostgresStore.open(database.url, database.poolSize);
}
