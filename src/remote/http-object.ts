// One immutable remote object read by byte ranges over HTTP: the transport every remote source shares (a plain
// URL, an S3 object through SigV4, an OCI registry blob through a bearer token differ only in how a request is
// authorised). Ranged GETs with a timeout each, retries with exponential backoff on 5xx, 429 and connection
// errors, bounded parallelism, and pinning: the object's ETag (or digest) is taken at open and every later range
// is asked for with If-Match, so an object that changes under a mount answers EIO, never mixed bytes.

import { Errno, ERRNO } from '../protocol/errno.js';

/** Adds credentials to a request: returns the headers to send (may refresh a token). */
export type Authorize = (method: string, url: string, headers: Record<string, string>) => Promise<Record<string, string>>;

export interface HttpObjectOptions {
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Attempts per range, the first included (default 4). */
  attempts?: number;
  /** First backoff in milliseconds, doubled per retry (default 100). */
  backoffMs?: number;
  /** Ranges fetched at once from this object (default 8). */
  parallel?: number;
  authorize?: Authorize;
  /** Answers a 401 (e.g. fetches a new bearer token); true = try again. */
  reauthorize?: (res: Response) => Promise<boolean>;
  /** Known size and pin (e.g. from a manifest): skips the HEAD request. */
  known?: { size: number; etag?: string };
  /**
   * A URL prefix that HTTP redirects may not leave (a composefs object store): redirects are then followed here,
   * at most MAX_REDIRECTS, and one to anywhere else fails the request. Unset: fetch follows them (registry blobs
   * redirect to their storage).
   */
  within?: string;
}

const MAX_REDIRECTS = 5;

/**
 * Whether `url` lies beneath `prefix`: same origin, and a path below the prefix's. Dot segments are resolved by
 * URL parsing (%2e included); an encoded slash or backslash could mean anything to the server, so it never is.
 */
export function beneathPrefix(url: string, prefix: string): boolean {
  const u = new URL(url);
  const p = new URL(prefix);
  if (u.origin !== p.origin || /%2f|%5c|\\/i.test(u.pathname)) return false;
  const dir = p.pathname.endsWith('/') ? p.pathname : `${p.pathname}/`;
  return u.pathname.startsWith(dir) && u.pathname.length > dir.length;
}

export interface ObjectStat {
  size: number;
  /** Strong ETag as the server sent it (quotes included), if any. */
  etag: string | undefined;
}

/** A request that failed for good: the message names the URL and what the server said. */
export class RemoteError extends Errno {
  constructor(readonly url: string, readonly status: number, message: string) {
    super(ERRNO.EIO, message);
    this.name = 'RemoteError';
  }
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** A ref'd timer on purpose: in a serving worker nothing else may keep the event loop alive during a backoff. */
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A counting semaphore: at most `n` bodies in flight per object. */
class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly n: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export class HttpObject {
  readonly url: string;
  size = 0;
  etag: string | undefined;
  /** Counters for --debug and SIGUSR1. */
  readonly stats = { requests: 0, retries: 0, bytes: 0 };
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly gate: Gate;
  private readonly authorize: Authorize | undefined;
  private readonly reauthorize: HttpObjectOptions['reauthorize'];
  private readonly within: string | undefined;

  private constructor(url: string, o: HttpObjectOptions) {
    this.url = url;
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.attempts = Math.max(1, o.attempts ?? 4);
    this.backoffMs = o.backoffMs ?? 100;
    this.gate = new Gate(Math.max(1, o.parallel ?? 8));
    this.authorize = o.authorize;
    this.reauthorize = o.reauthorize;
    this.within = o.within;
  }

  /** Opens the object: its size and ETag from a HEAD (or from `known`). 404/403 fail here, with one line. */
  static async open(url: string, options: HttpObjectOptions = {}): Promise<HttpObject> {
    const o = new HttpObject(url, options);
    if (options.known) {
      o.size = options.known.size;
      o.etag = options.known.etag;
      return o;
    }
    await o.request('HEAD', {}, (s) => s === 200, async (res) => {
      const len = Number(res.headers.get('content-length'));
      if (!Number.isSafeInteger(len) || len < 0) throw new RemoteError(url, res.status, `${url}: the server sent no usable Content-Length`);
      o.size = len;
      const etag = res.headers.get('etag') ?? undefined;
      // A weak ETag does not promise identical bytes, so it cannot pin ranges.
      o.etag = etag && !etag.startsWith('W/') ? etag : undefined;
    });
    return o;
  }

  /** Bytes [offset, offset + length) of the pinned object; throws RemoteError (EIO) when it cannot. */
  async getRange(offset: number, length: number): Promise<Uint8Array> {
    if (!(offset >= 0 && length > 0 && offset + length <= this.size)) {
      throw new RangeError(`${this.url}: range [${offset}, +${length}) outside [0, ${this.size})`);
    }
    const headers: Record<string, string> = { range: `bytes=${offset}-${offset + length - 1}` };
    if (this.etag) headers['if-match'] = this.etag;
    return this.gate.run(() => this.request('GET', headers, (status) => status === 206 || status === 200, async (res) => {
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status === 200) {
        // A server that ignores Range sends the whole object: take our part if it is whole, else refuse.
        if (body.length !== this.size) throw new RemoteError(this.url, 200, `${this.url}: ignored Range and sent ${body.length} of ${this.size} bytes`);
        this.stats.bytes += body.length;
        return body.slice(offset, offset + length);
      }
      const cr = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!cr || Number(cr[1]) !== offset || Number(cr[2]) !== offset + length - 1 || (cr[3] !== '*' && Number(cr[3]) !== this.size)) {
        throw new RemoteError(this.url, 206, `${this.url}: asked for bytes ${offset}-${offset + length - 1}/${this.size}, got Content-Range "${res.headers.get('content-range')}"`);
      }
      if (body.length !== length) throw new RemoteError(this.url, 206, `${this.url}: range of ${length} bytes came with ${body.length}`);
      const etag = res.headers.get('etag');
      if (this.etag && etag && etag !== this.etag) throw new RemoteError(this.url, 206, `${this.url}: object changed (ETag ${etag}, pinned ${this.etag})`);
      this.stats.bytes += length;
      return body;
    }));
  }

  /** fetch, with redirects kept beneath `within` when it is set (see HttpObjectOptions.within). */
  private async fetchFollowing(method: string, headers: Record<string, string>): Promise<Response> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    if (this.within === undefined) return fetch(this.url, { method, headers, redirect: 'follow', signal });
    let url = this.url;
    for (let hop = 0; ; hop++) {
      const res = await fetch(url, { method, headers, redirect: 'manual', signal });
      if (res.status < 300 || res.status > 399 || res.status === 304) return res;
      await res.body?.cancel().catch(() => {});
      const location = res.headers.get('location');
      const next = location === null ? undefined : new URL(location, url).href;
      if (next === undefined || !beneathPrefix(next, this.within)) {
        throw new RemoteError(this.url, res.status, `${this.url}: HTTP ${res.status} redirects to ${location ?? 'nowhere'}, outside ${this.within}`);
      }
      if (hop >= MAX_REDIRECTS) throw new RemoteError(this.url, res.status, `${this.url}: more than ${MAX_REDIRECTS} redirects`);
      url = next;
    }
  }

  /**
   * One request with retries. `ok` says which statuses are answers; `consume` reads and checks the answer inside
   * the same attempt, so a body cut off by a reset is retried too. RemoteError from `consume` is final.
   */
  private async request<T>(method: string, headers: Record<string, string>, ok: (status: number) => boolean, consume: (res: Response) => Promise<T>): Promise<T> {
    let lastError = '';
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await sleep(this.backoffMs * 2 ** (attempt - 1));
      }
      this.stats.requests++;
      let res: Response;
      try {
        const h = this.authorize ? await this.authorize(method, this.url, headers) : headers;
        res = await this.fetchFollowing(method, h);
        if (ok(res.status)) return await consume(res);
      } catch (e) {
        if (e instanceof RemoteError) throw e;
        // Connection refused or reset, DNS, timeout, a body cut short: worth another try.
        const err = e as Error & { cause?: { code?: string } };
        lastError = err.name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : (err.cause?.code ?? err.message);
        continue;
      }
      if (res.status === 401 && this.reauthorize && (await this.reauthorize(res))) continue;
      await res.body?.cancel().catch(() => {});
      if (res.status === 412) throw new RemoteError(this.url, 412, `${this.url}: object changed since it was opened (ETag ${this.etag} no longer matches)`);
      if (RETRYABLE.has(res.status)) {
        lastError = `HTTP ${res.status}`;
        continue;
      }
      throw new RemoteError(this.url, res.status, `${this.url}: HTTP ${res.status} ${res.statusText}`.trimEnd());
    }
    throw new RemoteError(this.url, 0, `${this.url}: ${method} failed after ${this.attempts} attempts (${lastError})`);
  }
}
