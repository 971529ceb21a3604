// The open-loop load generator's own process (see open-loop.ts). It speaks HTTP/1.1 on
// raw keep-alive sockets with each request written in one call and answers parsed only as
// far as status and length: a provider's load must cost the two shared cores as little
// as autocannon does for the closed loop, or the harness measures itself (the undici pool
// it replaces spent ~0.17 ms of CPU per request, more than Roost's ingest of it).
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { sendbluePayload } from './payloads.js';

export interface ClientConfig {
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  rate: number;
  seconds: number;
  connections: number;
  /** Request i carries Sendblue message `offset + i` from one of `contacts`, text `e:<offset + i>`. */
  offset: number;
  contacts: number;
}

export interface ClientResult {
  requests: number;
  errors: number;
  non2xx: number;
  /** Epoch ms at which request 0 was due; request i was due `i * 1000 / rate` later. */
  t0Epoch: number;
  /** Acknowledgement latency per request, ms from its due time; NaN when it failed. */
  ackLatencies: number[];
  /** CPU time this generator used for the whole load, µs (what the load cost the machine). */
  cpuMicros: number;
}

interface Conn {
  socket: Socket;
  /** The request in flight on it, or -1. */
  current: number;
  buf: string;
}

function run(cfg: ClientConfig): Promise<ClientResult> {
  const total = Math.round(cfg.rate * cfg.seconds);
  const lat = new Float64Array(total).fill(Number.NaN);
  const head = `POST ${cfg.path} HTTP/1.1\r\nhost: ${cfg.host}:${cfg.port}\r\ncontent-type: application/json\r\n` +
    Object.entries(cfg.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const queue: number[] = [];
  let queued = 0;
  const idle: Conn[] = [];
  let settled = 0;
  let errors = 0;
  let non2xx = 0;
  let t0 = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((r) => (finish = r));

  const settle = (i: number, ok: boolean, status = 0) => {
    if (ok) lat[i] = performance.now() - (t0 + (i * 1000) / cfg.rate);
    else errors++;
    if (ok && (status < 200 || status >= 300)) non2xx++;
    if (++settled === total) finish();
  };
  const send = (c: Conn, i: number) => {
    c.current = i;
    const body = sendbluePayload(cfg.offset + i, cfg.contacts, `e:${cfg.offset + i}`);
    c.socket.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  };
  const take = (c: Conn) => {
    if (queued < queue.length) send(c, queue[queued++]!);
    else idle.push(c);
  };
  // Answers parsed as far as status and framing: by content-length, or chunked up to its
  // last chunk; an answer framed otherwise ends its connection as an error.
  const onData = (c: Conn, chunk: string) => {
    c.buf += chunk;
    for (;;) {
      const end = c.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = c.buf.slice(0, end);
      const status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      let next: number;
      if (m) next = end + 4 + Number(m[1]);
      else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        const last = c.buf.indexOf('\r\n0\r\n\r\n', end + 2);
        next = last < 0 ? Number.POSITIVE_INFINITY : last + 7;
      } else if (status === 204 || status === 304) next = end + 4;
      else {
        c.socket.destroy(new Error('answer framed neither by content-length nor chunked'));
        return;
      }
      if (c.buf.length < next) return;
      c.buf = c.buf.slice(next);
      const i = c.current;
      c.current = -1;
      if (i >= 0) settle(i, true, status);
      take(c);
    }
  };
  const open = (): Promise<Conn> => new Promise((resolve, reject) => {
    const socket = connect({ host: cfg.host, port: cfg.port, noDelay: true });
    const c: Conn = { socket, current: -1, buf: '' };
    socket.setEncoding('latin1');
    socket.once('connect', () => resolve(c));
    // Before 'connect' the open fails; after it, 'close' follows and settles the request.
    socket.on('error', reject);
    socket.on('data', (d: string) => onData(c, d));
    socket.on('close', () => {
      // A dropped connection fails its request and is replaced.
      if (c.current >= 0) settle(c.current, false);
      c.current = -1;
      const k = idle.indexOf(c);
      if (k >= 0) idle.splice(k, 1);
      if (settled < total) open().then(take, () => undefined);
    });
  });

  return (async () => {
    const cpu = process.cpuUsage();
    const conns = await Promise.all(Array.from({ length: cfg.connections }, open));
    idle.push(...conns);
    t0 = performance.now();
    const t0Epoch = performance.timeOrigin + t0;
    let i = 0;
    while (i < total) {
      // Everything due by now goes out in this turn (to an idle connection, or queued
      // for the next one free); then sleep about a millisecond.
      const due = Math.min(total, Math.floor(((performance.now() - t0) * cfg.rate) / 1000) + 1);
      for (; i < due; i++) {
        const c = idle.pop();
        if (c) send(c, i);
        else queue.push(i);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    if (total > 0) await finished;
    for (const c of [...idle]) c.socket.destroy();
    const used = process.cpuUsage(cpu);
    return { requests: total, errors, non2xx, t0Epoch, ackLatencies: Array.from(lat), cpuMicros: used.user + used.system };
  })();
}

process.once('message', (cfg: ClientConfig) => {
  run(cfg).then(
    (result) => process.send!(result, () => process.exit(0)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
