import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { runStoreConformance } from './conformance.js';
import * as f from './factories.js';

const db = await createTestDatabase('roost_store');
afterAll(() => db.drop());

runStoreConformance('postgres', () => PostgresStore.open(db.url, 6));

describe('PostgresStore specifics', () => {
  it('says it is the postgres engine and records its migrations once when nodes start together', async () => {
    const fresh = await createTestDatabase('roost_migrate');
    try {
      const stores = await Promise.all([1, 2, 3, 4].map(() => PostgresStore.open(fresh.url, 2)));
      expect(stores.every((s) => s.engine === 'postgres')).toBe(true);
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      const rows = (await client.query('SELECT id, count(*)::int AS n FROM migrations GROUP BY id')).rows;
      await client.end();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.n === 1)).toBe(true);
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await fresh.drop();
    }
  });

  it('interleaves the statements of keyed callbacks in one batch, and runs unkeyed ones alone after them', async () => {
    const s = await PostgresStore.open(db.url, 2); // one batch in flight at a time
    try {
      const ws = f.workspace();
      await s.transaction((tx) => tx.insertWorkspace(ws));
      const steps: string[] = [];
      const callback = (name: string) => async (tx: Parameters<Parameters<PostgresStore['transaction']>[0]>[0]) => {
        steps.push(`${name}1`);
        await tx.getWorkspace(ws.id);
        steps.push(`${name}2`);
        await tx.getWorkspace(ws.id);
        steps.push(`${name}3`);
      };
      // Queued in one tick behind a batch in flight, so they form the next batch together.
      await Promise.all([
        s.transaction((tx) => tx.getWorkspace(ws.id)),
        s.transaction(callback('a'), { key: 'a' }),
        s.transaction(callback('u')),
        s.transaction(callback('b'), { key: 'b' }),
        s.transaction(callback('c'), { key: 'a' }), // same key as a: alone
      ]);
      expect(steps.slice(0, 6)).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
      expect(steps.slice(6)).toEqual(['u1', 'u2', 'u3', 'c1', 'c2', 'c3']);
    } finally {
      await s.close();
    }
  });

  it('fails a callback with the error of a write it did not wait for, not with the aborted transaction after it', async () => {
    const s = await PostgresStore.open(db.url, 2);
    try {
      const ws = f.workspace();
      const identifier = { key: 'phonenumber', value: '+31611199988' };
      await s.transaction(async (tx) => {
        await tx.insertWorkspace(ws);
        await tx.insertContact(f.contact(ws.id, { msisdn: identifier.value }), [identifier]);
      });
      const taken = f.contact(ws.id, { msisdn: identifier.value });
      const other = f.contact(ws.id);
      const results = await Promise.allSettled([
        // insertContact returns before PostgreSQL has answered; the read after it is what fails first.
        s.transaction(async (tx) => {
          await tx.insertContact(taken, [identifier]);
          return tx.getWorkspace(ws.id);
        }, { key: 'taken' }),
        s.transaction(async (tx) => {
          await tx.insertContact(other, [{ key: 'phonenumber', value: '+31611199977' }]);
          return 'stored';
        }, { key: 'other' }),
      ]);
      expect(results[0].status).toBe('rejected');
      expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
      expect(results[1]).toEqual({ status: 'fulfilled', value: 'stored' });
      expect(await s.getContact(ws.id, other.id)).toMatchObject({ id: other.id });
      expect(await s.getContact(ws.id, taken.id)).toBeUndefined();

      // Alone in its batch, the same.
      await expect(s.transaction(async (tx) => {
        await tx.insertContact(f.contact(ws.id), [identifier]);
        await tx.getWorkspace(ws.id);
      })).rejects.toMatchObject({ code: '23505' });
    } finally {
      await s.close();
    }
  });

  it('keeps one contact and one active conversation when two nodes race on the same new identifier', async () => {
    const a = await PostgresStore.open(db.url, 4);
    const b = await PostgresStore.open(db.url, 4);
    try {
      const ws = f.workspace();
      await a.transaction((tx) => tx.insertWorkspace(ws));
      const identifier = { key: 'phonenumber', value: '+31611122233' };
      const create = (s: PostgresStore) => s.transaction(async (tx) => {
        const existing = await tx.findContactByIdentifier(ws.id, identifier);
        if (existing) return existing.id;
        const c = f.contact(ws.id, { msisdn: identifier.value });
        await tx.insertContact(c, [identifier]);
        return c.id;
      });
      const ids = await Promise.all([create(a), create(b), create(a), create(b)]);
      expect(new Set(ids).size).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
