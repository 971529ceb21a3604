// A webhook receiver in its own process, as a customer's endpoint would be: it answers 200
// at once and reports each event's marker and arrival time (epoch ms, sub-ms precision) to
// the bench process over IPC, in batches so reporting stays cheap.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

const now = () => performance.timeOrigin + performance.now();
let batch = [];
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = now();
    const text = JSON.parse(Buffer.concat(chunks).toString('utf8')).message?.content?.text ?? '';
    batch.push([text, at]);
    res.writeHead(200, { 'content-length': '2' }).end('ok');
  });
});
server.keepAliveTimeout = 65_000;
setInterval(() => {
  if (batch.length === 0) return;
  process.send(batch);
  batch = [];
}, 10);
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));
