import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ClientConfig, ClientResult } from './open-loop-client.js';

export type OpenLoopResult = ClientResult;

/** tsx's loader, by file URL: the client is TypeScript, whether the bench runs under tsx or a test runner. */
const TSX = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/loader.mjs')).href;

/**
 * Sends `rate` requests per second for `seconds`, on a schedule that does not wait for
 * answers (as a provider sends), over `connections` keep-alive connections: request i is
 * Sendblue message `offset + i` (text `e:<offset + i>`). Every request is timed from the
 * moment it was due, so a stalled server shows up as latency rather than as a lower
 * offered rate. The load comes from a process of its own (open-loop-client.ts), like
 * Roost and the receiver.
 */
export function openLoop(opts: Omit<ClientConfig, 'host' | 'port'> & { url: string }): Promise<OpenLoopResult> {
  const { url, ...rest } = opts;
  const u = new URL(url);
  const config: ClientConfig = { ...rest, host: u.hostname, port: Number(u.port) };
  const child = fork(resolve(import.meta.dirname, 'open-loop-client.ts'), { execArgv: ['--import', TSX], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((res, rej) => {
    let result: OpenLoopResult | undefined;
    child.once('message', (m) => (result = m as OpenLoopResult));
    child.once('exit', (code) => (result ? res(result) : rej(new Error(`open-loop client exited with ${code}`))));
    child.send(config);
  });
}
