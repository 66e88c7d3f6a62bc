// A plain HTTP file server with Range support, run as its own process by the remote tests (so a test can kill it
// mid-read). Serves files below ROOT with Content-Length, strong ETags (from size and mtime) and If-Match.
// Control endpoints, for the tests only:
//   GET /__stats          {"bytes": N, "requests": N, "maxActive": N}: bodies sent so far, most requests at once
//   GET /__mode?...       wrong=1: flip the first byte of every body; fail=N: answer the next N requests 503;
//                         delay=MS: answer every request after MS milliseconds
//
// Usage: node range-server.js ROOT [PORT]  (prints "listening PORT" once ready; binds 127.0.0.1 only)

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

const root = path.resolve(process.argv[2] ?? '.');
let bytes = 0;
let requests = 0;
let wrong = false;
let fail = 0;
let delay = 0;
let active = 0;
let maxActive = 0;

function etagOf(st: fs.Stats): string {
  return `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

const server = http.createServer((req, res) => {
  if (delay > 0 && !(req.url ?? '').startsWith('/__')) {
    active++;
    maxActive = Math.max(maxActive, active);
    setTimeout(() => {
      active--;
      serve(req, res);
    }, delay);
    return;
  }
  serve(req, res);
});

function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === '/__stats') {
    res.end(JSON.stringify({ bytes, requests, maxActive }));
    return;
  }
  if (url.pathname === '/__mode') {
    if (url.searchParams.has('wrong')) wrong = url.searchParams.get('wrong') === '1';
    if (url.searchParams.has('fail')) fail = Number(url.searchParams.get('fail'));
    if (url.searchParams.has('delay')) delay = Number(url.searchParams.get('delay'));
    res.end('ok');
    return;
  }
  requests++;
  if (fail > 0) {
    fail--;
    res.writeHead(503).end();
    return;
  }
  const file = path.join(root, decodeURIComponent(url.pathname));
  if (!file.startsWith(root + path.sep)) {
    res.writeHead(403).end();
    return;
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
    if (!st.isFile()) throw new Error('not a file');
  } catch {
    res.writeHead(404).end();
    return;
  }
  const etag = etagOf(st);
  const ifMatch = req.headers['if-match'];
  if (ifMatch && ifMatch !== etag) {
    res.writeHead(412).end();
    return;
  }
  let start = 0;
  let end = st.size - 1;
  let status = 200;
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (range) {
    start = Number(range[1]);
    end = range[2] ? Math.min(Number(range[2]), st.size - 1) : st.size - 1;
    if (start > end) {
      res.writeHead(416, { 'content-range': `bytes */${st.size}` }).end();
      return;
    }
    status = 206;
  }
  const headers: http.OutgoingHttpHeaders = { 'content-length': end - start + 1, etag, 'accept-ranges': 'bytes' };
  if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
  res.writeHead(status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const body = Buffer.alloc(end - start + 1);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, body, 0, body.length, start);
  } finally {
    fs.closeSync(fd);
  }
  if (wrong && body.length) body[0] ^= 0xff;
  bytes += body.length;
  res.end(body);
}

server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
