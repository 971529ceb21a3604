// A webhook receiver in its own process, as a customer's endpoint would be: it answers 200
// at once and reports each event's marker and arrival time (epoch ms, sub-ms precision) to
// the bench process over IPC, in batches so reporting stays cheap. The marker (the
// message text, `e:<n>`) is read off the raw body rather than by parsing the whole event.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

const now = () => performance.timeOrigin + performance.now();
const MARKER = /"text":"(e:\d+)"/;
let batch = [];
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = now();
    batch.push([MARKER.exec(Buffer.concat(chunks).toString('latin1'))?.[1] ?? '', at]);
    res.writeHead(200, { 'content-length': '2' }).end('ok');
  });
});
server.keepAliveTimeout = 65_000;
setInterval(() => {
  if (batch.length === 0) return;
  process.send(batch);
  batch = [];
}, 10);
// `cpu`: the CPU this process has used so far, µs (the bench divides it by the events received).
process.on('message', (m) => {
  if (m === 'cpu') {
    const u = process.cpuUsage();
    process.send({ cpuMicros: u.user + u.system });
  }
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));
