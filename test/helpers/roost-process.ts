import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/roost.js');

/**
 * The engine the end-to-end suite runs on: SQLite by default, PostgreSQL when
 * ROOST_TEST_ENGINE=postgres (vitest's e2e-postgres project). Each data directory then
 * maps to its own throwaway database, so a restart on the same dataDir finds its data.
 */
export const TEST_ENGINE: 'sqlite' | 'postgres' = process.env.ROOST_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

async function databaseUrlFor(dataDir: string): Promise<string> {
  if (TEST_ENGINE === 'sqlite') return `sqlite:${join(dataDir, 'roost.db')}`;
  const marker = join(dataDir, 'postgres-url');
  if (existsSync(marker)) return readFileSync(marker, 'utf8');
  const { createTestDatabase } = await import('./postgres.js');
  const { url } = await createTestDatabase('roost_e2e');
  writeFileSync(marker, url);
  return url;
}

export interface RoostProcess {
  url: string;
  port: number;
  dataDir: string;
  /** The SQLite file (meaningful on the sqlite engine only). */
  dbPath: string;
  /** ROOST_DATABASE_URL the process runs on. */
  databaseUrl: string;
  /** Keys printed on first start (absent when configured through the environment). */
  liveKey?: string;
  testKey?: string;
  signingKey?: string;
  /** The default workspace's id, dashed, as printed at every start (Bird's paths name it). */
  workspaceId: string;
  output(): string;
  /** Graceful stop (SIGTERM); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Hard kill (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  child: ChildProcess;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Reuse a data directory (to restart on the same database). */
  dataDir?: string;
  timeoutMs?: number;
  /** Flags for node itself, before the script (the benchmarks profile with --cpu-prof). */
  nodeArgs?: string[];
}

/**
 * Starts the real `roost serve` process on a free port with a throwaway SQLite file,
 * waits for it to print its listening line, and parses the keys it prints on first start.
 */
export async function startRoost(opts: StartOptions = {}): Promise<RoostProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'roost-e2e-'));
  const dbPath = join(dataDir, 'roost.db');
  const databaseUrl = opts.env?.ROOST_DATABASE_URL ?? (await databaseUrlFor(dataDir));
  const port = await freePort();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      ROOST_PORT: String(port),
      ROOST_HOST: '127.0.0.1',
      ROOST_DATABASE_URL: databaseUrl,
      ROOST_ALLOW_PRIVATE_URLS: '1',
      ROOST_LOG_LEVEL: 'warn',
      ROOST_POLL_INTERVAL_MS: '50',
      ROOST_SIMULATED_STEP_MS: '20',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));

  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`roost did not start in time:\n${out}`)), opts.timeoutMs ?? 15_000);
    const check = () => {
      if (out.includes('roost listening on')) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        res();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`roost exited with ${code} before it was ready:\n${out}`));
    });
    check();
  });

  const pick = (label: string) => new RegExp(`${label}:\\s+(\\S+)`).exec(out)?.[1];
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    dbPath,
    databaseUrl,
    liveKey: pick('live access key'),
    testKey: pick('test access key'),
    signingKey: pick('signing key'),
    workspaceId: pick('default workspace')!,
    output: () => out,
    child,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Removes a data directory, and its throwaway PostgreSQL database when there is one.
 * Awaited: a drop left in flight when a test file ends dies with its worker and leaves
 * the database behind.
 */
export async function removeDataDir(dir: string): Promise<void> {
  const marker = join(dir, 'postgres-url');
  const url = existsSync(marker) ? readFileSync(marker, 'utf8') : undefined;
  rmSync(dir, { recursive: true, force: true });
  if (url) await (await import('./postgres.js')).dropDatabase(url).catch(() => undefined);
}

/** Small JSON client for the v1 API. */
/** A test request's body as fetch takes it: text and bytes as given, anything else as JSON. */
export function requestBody(body: unknown): string | Uint8Array<ArrayBuffer> {
  if (typeof body === 'string') return body;
  return body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body);
}

export function apiClient(baseUrl: string, key: string) {
  return async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        authorization: `AccessKey ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : requestBody(body),
    });
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, headers: res.headers, text, json: json as any };
  };
}

/** Polls `fn` until it returns a truthy value or the time runs out. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 5_000, stepMs = 25): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
