import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { openLoop } from '../../bench/lib/open-loop.js';

// The end-to-end benchmark's load generator (bench/lib/open-loop-client.ts, its own
// process, raw HTTP/1.1): every request sent once, on schedule, its answer read by length.
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  return new Promise((r) => server!.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server!.address() as { port: number }).port}`)));
}

describe('open-loop load generator', () => {
  it('sends rate × seconds distinct Sendblue messages with their headers and times each from its due moment', async () => {
    const seen: Array<{ handle: string; text: string; secret: string | undefined; at: number }> = [];
    const url = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message_handle: string; content: string };
        seen.push({ handle: body.message_handle, text: body.content, secret: req.headers['sb-signing-secret'] as string | undefined, at: performance.timeOrigin + performance.now() });
        // Answers of both framings the client reads: a body by content-length, and 204.
        if (seen.length % 2) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        else res.writeHead(204).end();
      });
    });
    const res = await openLoop({ url, path: '/inbound/x', rate: 200, seconds: 1, connections: 4, headers: { 'sb-signing-secret': 's3' }, offset: 1000, contacts: 10 });
    expect(res).toMatchObject({ requests: 200, errors: 0, non2xx: 0 });
    expect(seen).toHaveLength(200);
    expect(new Set(seen.map((s) => s.handle)).size).toBe(200);
    expect(seen.map((s) => s.text).sort()).toEqual(Array.from({ length: 200 }, (_, i) => `e:${1000 + i}`).sort());
    expect(seen.every((s) => s.secret === 's3')).toBe(true);
    expect(res.ackLatencies.every((l) => Number.isFinite(l) && l >= 0 && l < 1000)).toBe(true);
    // Open loop: the last request was due ~995 ms after the first, whatever the answers did.
    const last = seen.find((s) => s.text === 'e:1199')!;
    expect(last.at - res.t0Epoch).toBeGreaterThanOrEqual(990);
    expect(res.cpuMicros).toBeGreaterThan(0);
  });

  it('counts answers outside 2xx, and requests whose connection dropped, without stopping', async () => {
    let n = 0;
    const url = await listen((req, res) => {
      req.resume();
      req.on('end', () => {
        n++;
        if (n % 10 === 0) req.socket.destroy(); // no answer at all
        else if (n % 5 === 0) res.writeHead(503, { 'content-length': '0' }).end();
        else res.writeHead(200, { 'content-length': '2' }).end('ok');
      });
    });
    const res = await openLoop({ url, path: '/', rate: 100, seconds: 1, connections: 3, headers: {}, offset: 0, contacts: 10 });
    expect(res.requests).toBe(100);
    expect(res.errors).toBe(10);
    expect(res.non2xx).toBe(10);
    expect(res.ackLatencies.filter((l) => Number.isNaN(l))).toHaveLength(10);
  });
});
