import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running the module `name` next to `base` (an `import.meta.url`): the
 * compiled `.js` in `dist/`; from sources (the tests, `tsx`) the `.ts`, through tsx's
 * loader, registered in the thread before the module is imported.
 */
export function moduleThread(name: string, base: string, options: WorkerOptions): Worker {
  const fromSources = base.endsWith('.ts');
  const entry = new URL(`./${name}${fromSources ? '.ts' : '.js'}`, base);
  if (!fromSources) return new Worker(entry, options);
  const tsx = join(dirname(createRequire(base).resolve('tsx/package.json')), 'dist/esm/api/index.mjs');
  const source = `import(${JSON.stringify(pathToFileURL(tsx).href)})
    .then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(source, { ...options, eval: true });
}
