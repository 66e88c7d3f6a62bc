// docker://HOST[:PORT]/REPO[:TAG|@DIGEST]: an image in an OCI distribution registry. Resolves the reference to
// a manifest (through an index to this machine's platform), picks the layer whose bytes are an EROFS image, and
// hands back the blob's URL, digest, size and the authorisation every request needs (anonymous, Basic from
// TSFUSE_REGISTRY_AUTH=user:password, or the bearer token a 401 challenge points to, refreshed when it expires).

import { createHash } from 'node:crypto';
import type { Authorize } from './http-object.js';
import { RemoteError } from './http-object.js';

export interface OciReference {
  /** https://HOST[:PORT] (http:// for loopback hosts). */
  base: string;
  repo: string;
  /** A tag or a sha256:... digest. */
  reference: string;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

const EROFS_MAGIC = 0xe0f5e1e2;
const EROFS_SUPER_OFFSET = 1024;

export function parseOciUrl(spec: string): OciReference {
  const m = /^docker:\/\/([^/]+)\/(.+)$/.exec(spec);
  if (!m) throw new Error(`${spec}: expected docker://HOST[:PORT]/REPO:TAG or docker://HOST[:PORT]/REPO@sha256:DIGEST`);
  const host = m[1]!;
  let rest = m[2]!;
  let reference = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[0-9a-f]{64}$/.test(reference)) throw new Error(`${spec}: a digest reference is sha256: and 64 hex digits`);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(rest)) throw new Error(`${spec}: "${rest}" is not a repository name`);
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
  return { base: `${loopback ? 'http' : 'https'}://${host}`, repo: rest, reference };
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

function parseChallenge(h: string | null): Challenge | undefined {
  if (!h) return undefined;
  const m = /^(\w+)\s*(.*)$/.exec(h.trim());
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

/** Credentials for one registry repository, renewed on a 401. */
export class RegistryAuth {
  private header: string | undefined;
  private readonly basic: string | undefined;
  constructor(private readonly repo: string, private readonly timeoutMs: number) {
    const cred = process.env.TSFUSE_REGISTRY_AUTH;
    this.basic = cred ? `Basic ${Buffer.from(cred).toString('base64')}` : undefined;
  }

  readonly authorize: Authorize = async (_method, _url, headers) => (this.header ? { ...headers, authorization: this.header } : headers);

  /** Answers a 401: takes the scheme it asks for. Returns false when there is nothing new to try. */
  async challenge(res: Response): Promise<boolean> {
    const c = parseChallenge(res.headers.get('www-authenticate'));
    if (!c) return false;
    if (c.scheme === 'basic') {
      if (!this.basic || this.header === this.basic) return false;
      this.header = this.basic;
      return true;
    }
    if (c.scheme !== 'bearer' || !c.params.realm) return false;
    const u = new URL(c.params.realm);
    if (c.params.service) u.searchParams.set('service', c.params.service);
    u.searchParams.set('scope', c.params.scope ?? `repository:${this.repo}:pull`);
    const r = await fetch(u, { headers: this.basic ? { authorization: this.basic } : {}, signal: AbortSignal.timeout(this.timeoutMs) });
    if (!r.ok) throw new RemoteError(u.href, r.status, `${u.origin}${u.pathname}: token request answered HTTP ${r.status}`);
    const body = (await r.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RemoteError(u.href, r.status, `${u.origin}${u.pathname}: token response has no token`);
    const next = `Bearer ${token}`;
    if (next === this.header) return false;
    this.header = next;
    return true;
  }
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string };
  annotations?: Record<string, string>;
}

interface ManifestJson {
  mediaType?: string;
  manifests?: Descriptor[];
  layers?: Descriptor[];
}

export interface ResolvedBlob {
  url: string;
  digest: string;
  size: number;
  mediaType: string | undefined;
  manifestDigest: string;
  authorize: Authorize;
  reauthorize: (res: Response) => Promise<boolean>;
}

export class OciRegistry {
  readonly auth: RegistryAuth;
  constructor(readonly ref: OciReference, private readonly timeoutMs = 30_000) {
    this.auth = new RegistryAuth(ref.repo, timeoutMs);
  }

  /** GET with the registry's authorisation, answering one 401 challenge. */
  private async get(url: string, headers: Record<string, string>): Promise<Response> {
    for (let tries = 0; ; tries++) {
      const res = await fetch(url, { headers: await this.auth.authorize('GET', url, headers), signal: AbortSignal.timeout(this.timeoutMs) });
      if (res.status === 401 && tries === 0 && (await this.auth.challenge(res))) continue;
      return res;
    }
  }

  /** The URL of a blob of this repository. */
  blobUrl(digest: string): string {
    return `${this.ref.base}/v2/${this.ref.repo}/blobs/${digest}`;
  }

  async manifest(reference: string): Promise<{ json: ManifestJson; digest: string; bytes: Buffer }> {
    const url = `${this.ref.base}/v2/${this.ref.repo}/manifests/${reference}`;
    const res = await this.get(url, { accept: MANIFEST_TYPES.join(', ') });
    if (!res.ok) throw new RemoteError(url, res.status, `${this.ref.base}/${this.ref.repo}:${reference}: manifest answered HTTP ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > 4 << 20) throw new RemoteError(url, res.status, `${url}: manifest of ${body.length} bytes is too large`);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (reference.startsWith('sha256:') && digest !== reference) throw new RemoteError(url, res.status, `${url}: manifest digest is ${digest}`);
    let json: ManifestJson;
    try {
      json = JSON.parse(body.toString('utf8')) as ManifestJson;
    } catch {
      throw new RemoteError(url, res.status, `${url}: manifest is not JSON`);
    }
    return { json, digest, bytes: body };
  }

  /** The layer whose bytes are an EROFS image: by media type, else by the superblock magic at 1024. */
  async resolveErofsLayer(): Promise<ResolvedBlob> {
    let { json, digest } = await this.manifest(this.ref.reference);
    if (json.manifests) {
      const arch = process.arch === 'x64' ? 'amd64' : process.arch;
      const pick = json.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ?? json.manifests[0];
      if (!pick) throw new Error(`${this.ref.repo}:${this.ref.reference}: empty image index`);
      ({ json, digest } = await this.manifest(pick.digest));
    }
    const layers = json.layers ?? [];
    const named = layers.filter((l) => /erofs|composefs/i.test(l.mediaType ?? ''));
    for (const layer of [...named, ...layers.filter((l) => !named.includes(l))]) {
      if (!/^sha256:[0-9a-f]{64}$/.test(layer.digest) || !Number.isSafeInteger(layer.size)) continue;
      const url = this.blobUrl(layer.digest);
      if (!named.includes(layer)) {
        if (layer.size < EROFS_SUPER_OFFSET + 4) continue;
        const res = await this.get(url, { range: `bytes=${EROFS_SUPER_OFFSET}-${EROFS_SUPER_OFFSET + 3}` });
        const b = new Uint8Array(await res.arrayBuffer());
        if (!res.ok || b.length < 4 || new DataView(b.buffer, b.byteOffset).getUint32(b.length === 4 ? 0 : EROFS_SUPER_OFFSET, true) !== EROFS_MAGIC) continue;
      }
      return { url, digest: layer.digest, size: layer.size, mediaType: layer.mediaType, manifestDigest: digest, authorize: this.auth.authorize, reauthorize: (res) => this.auth.challenge(res) };
    }
    throw new Error(`${this.ref.base.replace(/^https?:\/\//, '')}/${this.ref.repo}:${this.ref.reference}: no layer of manifest ${digest} is an EROFS image`);
  }
}
