// A registry token server (the `realm` of distribution's auth: token), run as its own process by the remote
// tests: GET /token?service=S&scope=repository:NAME:ACTIONS with HTTP Basic credentials answers a JWT signed
// with KEY (jwt.ts); wrong or missing credentials answer 401. GET /__stats: {"issued": N, "refused": N}.
//
// Usage: node token-server.js KEY.pem CERT.pem ISSUER USER PASSWORD [PORT]  (prints "listening PORT"; 127.0.0.1)

import * as fs from 'node:fs';
import * as http from 'node:http';
import { parseScopes, registryToken } from './jwt.js';

const [keyFile, certFile, issuer, user, password, port] = process.argv.slice(2);
const keyPem = fs.readFileSync(keyFile!, 'utf8');
const certPem = fs.readFileSync(certFile!, 'utf8');
let issued = 0;
let refused = 0;

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === '/__stats') {
    res.end(JSON.stringify({ issued, refused }));
    return;
  }
  if (url.pathname !== '/token') {
    res.writeHead(404).end();
    return;
  }
  const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
  const given = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8') : '';
  if (given !== `${user}:${password}`) {
    refused++;
    res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'wrong credentials' }));
    return;
  }
  const service = url.searchParams.get('service') ?? '';
  const token = registryToken({ keyPem, certPem, issuer: issuer!, service, subject: user!, access: parseScopes(url.searchParams.getAll('scope')) });
  issued++;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
});

server.listen(Number(port ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
