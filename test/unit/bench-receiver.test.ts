import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { launchReceiver } from '../../bench/lib/setup.js';
import { createHttpClient } from '../../src/net/http-client.js';

// The end-to-end benchmark's webhook receiver (bench/lib/receiver-server.mjs, its own
// process, raw HTTP/1.1): every event counted once, with its marker, whatever the framing.
type Receiver = Awaited<ReturnType<typeof launchReceiver>>;
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

const event = (n: number, extra = '') => JSON.stringify({ type: 'message.created', message: { content: { text: `e:${n}` }, note: extra } });
const request = (body: string) => `POST /hook/0 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

async function start() {
  const seen: Array<[string, number]> = [];
  receiver = await launchReceiver((text, at) => seen.push([text, at]));
  const arrived = async (n: number) => {
    const until = Date.now() + 5_000;
    while (seen.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return seen;
  };
  return { url: receiver.url, port: Number(new URL(receiver.url).port), arrived };
}

/** Writes `parts` one by one on a raw connection and returns everything read until it closes or `expect` answers arrive. */
function exchange(port: number, parts: string[], answers: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (c: string) => {
      got += c;
      if (got.split('HTTP/1.1 ').length - 1 >= answers && !got.includes('411')) s.end();
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.on('connect', async () => {
      for (const p of parts) {
        s.write(Buffer.from(p, 'utf8'));
        await new Promise((r) => setTimeout(r, 1));
      }
    });
  });
}

describe('end-to-end benchmark receiver', () => {
  it('answers 200 to every request Roost\'s HTTP client sends and reports each event\'s marker and arrival', async () => {
    const r = await start();
    const http = createHttpClient({ allowPrivate: true, defaultTimeoutMs: 5_000, maxResponseBytes: 1024, connectionsPerOrigin: 8 });
    const before = Date.now();
    // Multi-byte text: content-length counts bytes, not characters.
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) =>
      http.request({ url: `${r.url}/hook/0`, method: 'POST', headers: { 'content-type': 'application/json' }, body: event(i, 'é€😀'.repeat(i % 7)) })));
    await http.close();
    expect(answers.every((a) => a.status === 200 && a.body === 'ok')).toBe(true);
    const seen = await r.arrived(300);
    expect(seen.map(([t]) => t).sort()).toEqual(Array.from({ length: 300 }, (_, i) => `e:${i}`).sort());
    expect(seen.every(([, at]) => at >= before - 1 && at <= Date.now() + 1)).toBe(true);
    expect(await receiver!.cpuMicros()).toBeGreaterThan(0);
  });

  it('reads pipelined requests in one write and a request split byte by byte, answering each in order', async () => {
    const r = await start();
    const third = request(event(3, 'ünïcode'));
    const got = await exchange(r.port, [request(event(1)) + request(event(2)), ...third.split('')], 3);
    expect(got).toBe('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'.repeat(3));
    expect((await r.arrived(3)).map(([t]) => t)).toEqual(['e:1', 'e:2', 'e:3']);
  });

  it('answers 411 and closes a request framed without content-length, counting no event', async () => {
    const r = await start();
    const chunked = `POST /hook/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`;
    const got = await exchange(r.port, [request(event(7)) + chunked], 2);
    expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*HTTP\/1\.1 411 Length Required\r\n/);
    await new Promise((res) => setTimeout(res, 50));
    expect((await r.arrived(1)).map(([t]) => t)).toEqual(['e:7']);
  });
});
