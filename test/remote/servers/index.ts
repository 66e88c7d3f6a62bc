// Real servers for the remote tests, each started on 127.0.0.1 as its own process and stopped in finally: the
// Range file server beside this file, Debian's docker-registry (the CNCF distribution registry; with auth: token
// its tokens come from the token server beside this file, signed with a key made by openssl), and s3rver (an
// S3 API server from npm). Set-up writes go through the servers' own APIs (registry HTTP API, boto3 for S3).

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../../helpers/fixtures.js';
import { run } from '../../helpers/client.js';

export interface RunningServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  proc: ChildProcess;
  /** Whatever the server printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, proc: ChildProcess, output: () => string, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode} before listening:\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`server not listening on ${port} after ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function started(cmd: string, args: string[], port: number, env?: NodeJS.ProcessEnv): { proc: ChildProcess; output: () => string } {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  const take = (d: Buffer): void => {
    if (out.length < 1 << 20) out += d.toString();
  };
  proc.stdout!.on('data', take);
  proc.stderr!.on('data', take);
  void port;
  return { proc, output: () => out };
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Starts one of the node servers beside this file; its first line says "listening PORT". */
async function startNodeServer(script: string, args: string[]): Promise<{ proc: ChildProcess; output: () => string; port: number }> {
  const { proc, output } = started(process.execPath, [path.join(HERE, script), ...args], 0);
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${script} did not start:\n${output()}`)), 10_000);
    proc.stdout!.on('data', () => {
      const m = /listening (\d+)/.exec(output());
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
  });
  return { proc, output, port };
}

/** The Range file server over `root` (files are served by their path below it). */
export async function startRangeServer(root: string, port?: number): Promise<RunningServer & { stats(): Promise<{ bytes: number; requests: number; maxActive: number }>; mode(q: string): Promise<void> }> {
  // With port 0 range-server.js picks its own.
  const { proc, output, port: actual } = await startNodeServer('range-server.js', [root, String(port ?? 0)]);
  const url = `http://127.0.0.1:${actual}`;
  return {
    url, port: actual, proc, output, stop: stopper(proc),
    stats: async () => (await (await fetch(`${url}/__stats`)).json()) as { bytes: number; requests: number; maxActive: number },
    mode: async (q) => {
      await (await fetch(`${url}/__mode?${q}`)).text();
    },
  };
}

export const TOKEN_ISSUER = 'tsfuse-test-token-issuer';
export const TOKEN_SERVICE = 'tsfuse-test-registry';

/** A key and a self-signed certificate made with openssl (the registry trusts the certificate). */
export async function makeSigningKey(dir: string, name: string): Promise<{ key: string; cert: string }> {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  const r = await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'keyUsage=critical,digitalSignature',
  ], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`openssl: ${r.stderr}`);
  return { key, cert };
}

/** The token server (token-server.ts) issuing tokens signed with `key` to user:password. */
export async function startTokenServer(key: { key: string; cert: string }, user: string, password: string): Promise<RunningServer & { stats(): Promise<{ issued: number; refused: number }> }> {
  const { proc, output, port } = await startNodeServer('token-server.js', [key.key, key.cert, TOKEN_ISSUER, user, password, '0']);
  const url = `http://127.0.0.1:${port}`;
  return { url, port, proc, output, stop: stopper(proc), stats: async () => (await (await fetch(`${url}/__stats`)).json()) as { issued: number; refused: number } };
}

/** The `auth: token` section of a registry configuration: tokens from `realm`, signed by whom `cert` names. */
export function tokenAuthConfig(realm: string, cert: string): string[] {
  return ['auth:', '  token:', `    realm: ${realm}/token`, `    service: ${TOKEN_SERVICE}`, `    issuer: ${TOKEN_ISSUER}`, `    rootcertbundle: ${cert}`];
}

// ---- OCI registry -------------------------------------------------------------------------------------------------

/** `extra`: more configuration lines (e.g. tokenAuthConfig). */
export async function startRegistry(dataDir: string, port?: number, extra: string[] = []): Promise<RunningServer> {
  const p = port ?? (await freePort());
  const cfg = path.join(dataDir, 'config.yml');
  fs.mkdirSync(path.join(dataDir, 'storage'), { recursive: true });
  fs.writeFileSync(cfg, [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dataDir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${p}`,
    ...extra,
    '',
  ].join('\n'));
  const { proc, output } = started('docker-registry', ['serve', cfg], p);
  await waitForPort(p, proc, output);
  return { url: `http://127.0.0.1:${p}`, port: p, proc, output, stop: stopper(proc) };
}

export function sha256Digest(b: Uint8Array): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

async function pushBlob(registry: string, repo: string, body: Uint8Array, auth: Record<string, string> = {}): Promise<{ digest: string; size: number }> {
  const digest = sha256Digest(body);
  const start = await fetch(`${registry}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: auth });
  if (start.status !== 202) throw new Error(`registry upload start: HTTP ${start.status}`);
  const loc = new URL(start.headers.get('location')!, registry);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body, headers: { ...auth, 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`registry blob PUT: HTTP ${put.status} ${await put.text()}`);
  return { digest, size: body.length };
}

/** Pushes an image whose single layer is `layerFile` (an EROFS image); returns the manifest digest. `auth`: headers for a registry that wants them. */
export async function pushImage(registry: string, repo: string, tag: string, layerFile: string, layerMediaType = 'application/vnd.erofs.layer.v1', auth: Record<string, string> = {}): Promise<{ manifestDigest: string; layerDigest: string }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const c = await pushBlob(registry, repo, config, auth);
  const l = await pushBlob(registry, repo, fs.readFileSync(layerFile), auth);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c.digest, size: c.size },
    layers: [{ mediaType: layerMediaType, digest: l.digest, size: l.size }],
  }));
  const put = await fetch(`${registry}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (put.status !== 201) throw new Error(`registry manifest PUT: HTTP ${put.status} ${await put.text()}`);
  return { manifestDigest: sha256Digest(manifest), layerDigest: l.digest };
}

/**
 * Pushes an OCI image layout's image `tag` to the registry as it is: every blob below blobs/sha256, then the
 * manifest's own bytes (so its digest stays the layout's). Returns the manifest digest.
 */
export async function pushLayout(registry: string, repo: string, tag: string, layoutDir: string): Promise<string> {
  const index = JSON.parse(fs.readFileSync(path.join(layoutDir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
  const m = index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!m) throw new Error(`${layoutDir} has no tag ${tag}`);
  const blobs = path.join(layoutDir, 'blobs', 'sha256');
  for (const hex of fs.readdirSync(blobs)) if (`sha256:${hex}` !== m.digest) await pushBlob(registry, repo, fs.readFileSync(path.join(blobs, hex)));
  const manifest = fs.readFileSync(path.join(blobs, m.digest.slice(7)));
  const put = await fetch(`${registry}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (put.status !== 201) throw new Error(`registry manifest PUT: HTTP ${put.status} ${await put.text()}`);
  return m.digest;
}

/** Bytes of blob bodies the registry wrote to clients, from its info log (http.response.written=N on GETs). */
export function registryBytesServed(output: string): number {
  let n = 0;
  for (const line of output.split('\n')) {
    if (!/http\.request\.method=GET/.test(line) || !/\/blobs\//.test(line)) continue;
    const m = /http\.response\.written=(\d+)/.exec(line);
    if (m) n += Number(m[1]);
  }
  return n;
}

// ---- S3 -------------------------------------------------------------------------------------------------------------

export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

/** Puts S3_CREDENTIALS in the environment (the mount's workers read them as the AWS tools do); returns the undo. */
export function useS3Credentials(): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(S3_CREDENTIALS)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** The head of a boto3 script: imports and a path-style client for s3rver at sys.argv[1]. */
function boto3Client(imports: string): string[] {
  return [imports, 'from botocore.config import Config', `s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER", region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))`];
}

export async function startS3(dataDir: string, bucket: string, port?: number): Promise<RunningServer> {
  const p = port ?? (await freePort());
  const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 's3rver');
  fs.mkdirSync(dataDir, { recursive: true });
  const { proc, output } = started(bin, ['-d', dataDir, '-a', '127.0.0.1', '-p', String(p), '--configure-bucket', bucket], p);
  await waitForPort(p, proc, output);
  return { url: `http://127.0.0.1:${p}`, port: p, proc, output, stop: stopper(proc) };
}

/** Uploads a file with boto3 (a real S3 client), path-style against `endpoint`. */
export async function s3Upload(endpoint: string, bucket: string, key: string, file: string): Promise<void> {
  const script = [
    ...boto3Client('import boto3, sys'),
    's3.upload_file(sys.argv[4], sys.argv[2], sys.argv[3])',
  ].join('\n');
  const r = await run('python3', ['-c', script, endpoint, bucket, key, file], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`boto3 upload failed: ${r.stderr}`);
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Uploads every file below `dir` as PREFIX/RELPATH with one boto3 client (a composefs object store). */
export async function s3UploadTree(endpoint: string, bucket: string, prefix: string, dir: string): Promise<number> {
  const script = [
    ...boto3Client('import boto3, os, sys'),
    'n = 0',
    'for d, _, files in os.walk(sys.argv[4]):',
    '    for f in files:',
    '        p = os.path.join(d, f)',
    '        s3.upload_file(p, sys.argv[2], sys.argv[3] + "/" + os.path.relpath(p, sys.argv[4]))',
    '        n += 1',
    'print(n)',
  ].join('\n');
  const r = await run('python3', ['-c', script, endpoint, bucket, prefix, dir], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`boto3 upload failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}
