// A webhook receiver in its own process, as a customer's endpoint would be: it answers 200
// at once and reports each event's marker and arrival time (epoch ms, sub-ms precision) to
// the bench process over IPC, in batches so reporting stays cheap. The marker (the
// message text, `e:<n>`) is read off the raw body rather than by parsing the whole event.
//
// It speaks HTTP/1.1 on raw keep-alive sockets, as the load generator does
// (open-loop-client.ts): requests framed by content-length (what Roost sends; a request
// without one is answered 411 and its connection closed, so a change there shows as lost
// events, not as a miscount), pipelined ones in order, the answers to one read in one
// write. A receiver on node:http spent ~57 µs of CPU per event at 3,000 msg/s on the two
// cores the bench shares with Roost, this one ~37: the harness's share, not Roost's, is what it saves.
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

const now = () => performance.timeOrigin + performance.now();
const MARKER = /"text":"(e:\d+)"/;
const LENGTH = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i;
const CHUNKED = /\r\ntransfer-encoding:/i;
const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
const LENGTH_REQUIRED = 'HTTP/1.1 411 Length Required\r\ncontent-length: 0\r\nconnection: close\r\n\r\n';

let batch = [];
const server = createServer((socket) => {
  // latin1: one character per byte, so content-length counts characters.
  socket.setEncoding('latin1');
  socket.setNoDelay(true);
  let buf = '';
  socket.on('data', (chunk) => {
    buf += chunk;
    let answers = '';
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) break;
      // The head up to and including its last line's CRLF, so every header line is matched alike.
      const head = buf.slice(0, end + 2);
      const length = LENGTH.exec(head);
      if (!length || CHUNKED.test(head)) {
        socket.end(answers + LENGTH_REQUIRED);
        buf = '';
        return;
      }
      const bodyEnd = end + 4 + Number(length[1]);
      if (buf.length < bodyEnd) break;
      batch.push([MARKER.exec(buf.slice(end + 4, bodyEnd))?.[1] ?? '', now()]);
      buf = buf.slice(bodyEnd);
      answers += OK;
    }
    if (answers) socket.write(answers, 'latin1');
  });
  socket.on('error', () => socket.destroy());
});
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
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
