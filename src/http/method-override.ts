import type { IncomingMessage } from 'node:http';

const OVERRIDABLE = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * MessageBird's `_method` query parameter (seed 004): "when your website or application
 * doesn't have the possibility to do a POST or DELETE". Applied to the raw request before
 * routing. Only GET and POST requests may be overridden, so a browser's plain link cannot
 * be turned into something else by accident of a proxy.
 */
export function applyMethodOverride(req: IncomingMessage): void {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q === -1 || !url.includes('_method=', q)) return;
  if (req.method !== 'GET' && req.method !== 'POST') return;
  const wanted = new URLSearchParams(url.slice(q + 1)).get('_method')?.replace(/^=+/, '').toUpperCase();
  if (wanted && OVERRIDABLE.has(wanted)) req.method = wanted;
}
