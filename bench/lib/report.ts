// Results -> bench/results/latest.{json,md,svg}. The markdown has the machine, the contenders (with why any
// was skipped) and one table per group: contender, figure, median, range over rounds, and the speed relative
// to the tsfuse reference contender of that figure. The SVG draws those relative speeds, one group of bars
// per figure, on a log scale centred on tsfuse (1x); written by hand, no dependencies.

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Figure } from './figures.js';
import { BENCH_DATA } from './paths.js';
import { tryRunSync } from './proc.js';
import { fmt, median, range } from './stats.js';
import { uringPairsTable } from './uring.js';

export interface ContenderInfo {
  id: string;
  label: string;
  /** tsfuse itself, a peer, or a limit (the kernel driver, the native directory). */
  kind: 'tsfuse' | 'peer' | 'limit';
  note?: string;
  skipped?: string;
  errors: string[];
  /** A tsfuse contender without an io_uring twin: why. */
  noUring?: string;
}

export interface RunResults {
  meta: {
    date: string;
    quick: boolean;
    rounds: number;
    durationS: number;
    machine: Record<string, string>;
    data: Record<string, unknown>;
    config: unknown;
  };
  contenders: ContenderInfo[];
  figures: Figure[];
  samples: Record<string, Record<string, number[]>>;
  /** Free-form findings (profile, bottleneck) appended by hand or by tools. */
  findings?: string[];
}

function dpkg(pkg: string): string {
  return tryRunSync('dpkg-query', ['-W', '-f', '${Version}', pkg]) ?? 'not installed';
}

export function machineInfo(): Record<string, string> {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  let fuseNative = 'not installed';
  try {
    const req = createRequire(join(BENCH_DATA, 'peers', 'package.json'));
    fuseNative = (req('fuse-native/package.json') as { version: string }).version;
  } catch {
    // stays "not installed"
  }
  const mem = /MemTotal:\s*(\d+)/.exec((() => {
    try {
      return readFileSync('/proc/meminfo', 'utf8');
    } catch {
      return '';
    }
  })())?.[1];
  return {
    cpu: model,
    cores: String(availableParallelism()),
    memory: mem ? `${Math.round(Number(mem) / 1024 / 1024)} GiB` : 'unknown',
    kernel: tryRunSync('uname', ['-r']) ?? 'unknown',
    node: process.version,
    'mkfs.erofs (erofs-utils)': dpkg('erofs-utils'),
    'squashfuse / squashfuse_ll': dpkg('squashfuse'),
    'mksquashfs (squashfs-tools)': dpkg('squashfs-tools'),
    fio: tryRunSync('fio', ['--version']) ?? 'not installed',
    libfuse3: dpkg('libfuse3-3'),
    libfuse2: dpkg('libfuse2'),
    'fuse-native': fuseNative,
    'loadavg at end': (() => {
      try {
        return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
      } catch {
        return '?';
      }
    })(),
  };
}

export interface Row {
  figure: Figure;
  id: string;
  label: string;
  median: number;
  min: number;
  max: number;
  n: number;
  /** Speed relative to the tsfuse reference (>1 = better than it), or undefined. */
  rel?: number;
  isBase: boolean;
}

export function baseOf(fig: Figure, r: RunResults): string | undefined {
  const s = r.samples[fig.id] ?? {};
  return fig.base.find((b) => (s[b]?.length ?? 0) > 0);
}

export function rows(r: RunResults): Row[] {
  const out: Row[] = [];
  const labels = new Map(r.contenders.map((c) => [c.id, c.label]));
  for (const fig of r.figures) {
    const s = r.samples[fig.id] ?? {};
    const base = baseOf(fig, r);
    const bm = base ? median(s[base]) : undefined;
    for (const c of r.contenders) {
      const v = s[c.id];
      if (!v?.length) continue;
      const m = median(v);
      const [mn, mx] = range(v);
      let rel: number | undefined;
      if (bm !== undefined && bm > 0 && m > 0) rel = fig.better === 'higher' ? m / bm : bm / m;
      out.push({ figure: fig, id: c.id, label: labels.get(c.id) ?? c.id, median: m, min: mn, max: mx, n: v.length, rel, isBase: c.id === base });
    }
  }
  return out;
}

export interface Trailing {
  figure: Figure;
  peer: string;
  rel: number;
  limit?: number;
}

/** Figures sorted by how far the best peer is ahead of the tsfuse reference (worst first). */
export function trailing(r: RunResults): Trailing[] {
  const kind = new Map(r.contenders.map((c) => [c.id, c.kind]));
  const all = rows(r);
  const out: Trailing[] = [];
  for (const f of r.figures) {
    const fr = all.filter((x) => x.figure.id === f.id && x.rel !== undefined);
    const peers = fr.filter((x) => kind.get(x.id) === 'peer').sort((a, b) => b.rel! - a.rel!);
    if (!peers.length) continue;
    const limit = fr.find((x) => kind.get(x.id) === 'limit');
    out.push({ figure: f, peer: peers[0].id, rel: peers[0].rel!, limit: limit?.rel });
  }
  return out.sort((a, b) => b.rel - a.rel);
}

function relText(v: number | undefined): string {
  if (v === undefined) return 'n/a';
  return v >= 10 ? `${v.toFixed(0)}x` : v >= 1 ? `${v.toFixed(2)}x` : `${v.toFixed(2)}x`;
}

const GROUP_TITLES: Record<Figure['group'], string> = {
  metadata: 'Metadata (image servers)',
  data: 'Data (image servers)',
  'start-up': 'Start-up (image servers)',
  cpu: 'Server CPU time (image servers)',
  passthrough: 'Passthrough filesystem',
  memfs: 'memfs stat loop (bench/statloop.ts figures)',
};

export function markdown(r: RunResults): string {
  const L: string[] = [];
  const d = r.meta.data as { entries: number; bigDir: number; bigFileBytes: number; memfsEntries: number; buildMs?: Record<string, number> };
  L.push('# tsfuse against its peers');
  L.push('');
  L.push(`${r.meta.date} — ${r.meta.quick ? '**quick run** (`npm run bench -- --quick`)' : 'full run (`npm run bench`)'}, ${r.meta.rounds} rounds, ${Math.round(r.meta.durationS)} s.`);
  L.push('');
  L.push(
    `Data: a tree of ${d.entries} entries with a ${d.bigDir}-entry directory and a ${d.bigFileBytes / (1 << 20)} MiB file` +
      (r.meta.quick ? ' (quick sizes; the full run uses ~100k entries, a 20k-entry directory and a 1 GiB file)' : '') +
      '; an uncompressed EROFS image (mkfs.erofs), an uncompressed squashfs image (mksquashfs -noI -noD -noF -noX), a composefs-style image + object store of the same tree, and a 10-entry tree/image for start-up.',
  );
  L.push('');
  L.push('## Machine');
  L.push('');
  for (const [k, v] of Object.entries(r.meta.machine)) L.push(`- ${k}: ${v}`);
  L.push('');
  L.push('## Contenders');
  L.push('');
  for (const c of r.contenders) {
    let line = `- **${c.id}** — ${c.label}`;
    if (c.note) line += `. ${c.note}`;
    if (c.skipped) line += `. **Skipped: ${c.skipped}**`;
    if (c.errors.length) line += `. ${c.errors.length} error(s), first: ${c.errors[0]}`;
    L.push(line);
  }
  L.push('');
  L.push('## Results');
  L.push('');
  L.push(
    'Median and range over rounds (contenders interleaved: A, B, C, A, B, C...). **vs tsfuse** is the speed relative to the ' +
      'tsfuse reference of the figure (marked ●): value ÷ reference when higher is better, reference ÷ value when lower is ' +
      'better, so **above 1x the contender beats tsfuse, below 1x tsfuse wins**.',
  );
  const all = rows(r);
  const groups = [...new Set(r.figures.map((f) => f.group))];
  for (const g of groups) {
    const gr = all.filter((x) => x.figure.group === g);
    if (!gr.length) continue;
    L.push('');
    L.push(`### ${GROUP_TITLES[g]}`);
    L.push('');
    L.push('| figure | contender | median | range | vs tsfuse |');
    L.push('|---|---|---:|---:|---:|');
    for (const x of gr) {
      const unit = x.figure.unit;
      const better = x.figure.better === 'higher' ? '↑' : '↓';
      L.push(`| ${x.figure.label} (${unit} ${better}) | ${x.isBase ? '● ' : ''}${x.id} | ${fmt(x.median)} | ${fmt(x.min)}–${fmt(x.max)} | ${relText(x.rel)} |`);
    }
  }
  const worst = trailing(r);
  if (worst.length) {
    L.push('');
    L.push('### Where tsfuse trails its peers most');
    L.push('');
    L.push('Per figure, the best peer (FUSE servers; not the kernel driver or the native directory, which are limits) against the tsfuse reference:');
    L.push('');
    L.push('| figure | best peer | peer vs tsfuse | kernel/native limit vs tsfuse |');
    L.push('|---|---|---:|---:|');
    for (const w of worst) L.push(`| ${w.figure.label} | ${w.peer} | ${relText(w.rel)} | ${w.limit !== undefined ? relText(w.limit) : 'n/a'} |`);
  }
  const noTwin = Object.fromEntries(r.contenders.filter((c) => c.noUring).map((c) => [c.id, c.noUring!]));
  const pairs = uringPairsTable(r.figures, r.samples, r.contenders, noTwin);
  if (pairs.length) L.push('', ...pairs.map((l) => l.replace(/^## /, '### ')));
  const missing = r.figures.filter((f) => !Object.keys(r.samples[f.id] ?? {}).length);
  if (missing.length) {
    L.push('');
    L.push(`No samples for: ${missing.map((f) => f.id).join(', ')}.`);
  }
  if (r.findings?.length) {
    L.push('');
    L.push('## Findings');
    L.push('');
    for (const f of r.findings) L.push(f);
  }
  L.push('');
  L.push('## How');
  L.push('');
  L.push(
    [
      '- Every client is a separate process: `bench/clients/fsbench.c` (gcc -O2; lstat over a file list, readdir, read/pread loops, create/stat/unlink), `find`. Each one is bounded in count and time.',
      '- Metadata figures run on a mount with entry/attr timeouts 0 where the contender takes them (tsfuse, squashfuse -o entry_timeout=0,attr_timeout=0, fuse-native, memfs). The kernel EROFS mount and squashfuse_ll cannot be told: their stat passes start after drop_caches instead (echo 3 for the kernel mount, echo 2 for squashfuse_ll), so the kernel serves the pass from its own caches after the first lookup of each name. 2 clients split the list between them.',
      '- find and data figures run on a second mount with each contender\'s usual long timeouts (tsfuse erofs 86400 s, squashfuse/fuse-native -o entry_timeout=86400,attr_timeout=86400). Cold = `echo 3 > /proc/sys/vm/drop_caches` first; warm = the same thing again right after. Random reads: pread of 4 KiB at random aligned offsets, O_DIRECT off; warm repeats the same offsets.',
      '- Start-up: from spawn of the server command (`tsfuse erofs mount ... --foreground`, `squashfuse -f`, `mount -t erofs`, ...) to the first successful stat of a file inside (polled every 0.2 ms by a separate process), page cache of the binaries warm.',
      '- Server CPU: user+system time of the whole server process (sum of /proc/PID/task/*/schedstat, all threads) over the client run, divided by the operations the client did (lstat calls, MiB read, 4 KiB preads) — not by FUSE requests, which differ between servers. memfs also counts the requests that reached its Filesystem methods (the figures in its group).',
      '- Mounts: every one has a watchdog that aborts the connection through fusectl and lazily unmounts; a hung client aborts its mount.',
    ].join('\n'),
  );
  L.push('');
  return L.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const PALETTE = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666', '#1f78b4', '#b2df8a', '#fb9a99', '#cab2d6'];

export function svg(r: RunResults): string {
  const all = rows(r).filter((x) => x.rel !== undefined);
  const figs = r.figures.filter((f) => all.some((x) => x.figure.id === f.id));
  const ids = [...new Set(all.map((x) => x.id))];
  const color = new Map(ids.map((id, i) => [id, PALETTE[i % PALETTE.length]]));
  let lo = 1 / 4;
  let hi = 4;
  for (const x of all) {
    while (x.rel! < lo && lo > 1 / 1024) lo /= 2;
    while (x.rel! > hi && hi < 1024) hi *= 2;
  }
  const W = 1100;
  const labelW = 300;
  const chartX = labelW + 10;
  const chartW = 640;
  const barH = 13;
  const gap = 3;
  const headH = 22;
  const top = 90;
  const lx = Math.log(lo);
  const span = Math.log(hi) - lx;
  const X = (v: number): number => chartX + ((Math.log(Math.min(hi, Math.max(lo, v))) - lx) / span) * chartW;
  let y = top;
  const parts: string[] = [];
  for (const f of figs) {
    const fr = all.filter((x) => x.figure.id === f.id);
    parts.push(`<text x="10" y="${y + 15}" class="fig">${esc(f.label)} <tspan class="unit">(${esc(f.unit)}, ${f.better} is better)</tspan></text>`);
    y += headH;
    for (const x of fr) {
      const x1 = X(1);
      const x2 = X(x.rel!);
      const bx = Math.min(x1, x2);
      const bw = Math.max(1.5, Math.abs(x2 - x1));
      parts.push(`<text x="${labelW}" y="${y + barH - 3}" text-anchor="end" class="lab">${x.isBase ? '● ' : ''}${esc(x.id)}</text>`);
      parts.push(`<rect x="${bx.toFixed(1)}" y="${y}" width="${bw.toFixed(1)}" height="${barH}" fill="${color.get(x.id)}"${x.isBase ? ' stroke="#000" stroke-width="1"' : ''}/>`);
      const tx = x.rel! >= 1 ? Math.max(x1, x2) + 4 : Math.min(x1, x2) - 4;
      parts.push(`<text x="${tx.toFixed(1)}" y="${y + barH - 3}" class="val" text-anchor="${x.rel! >= 1 ? 'start' : 'end'}">${relText(x.rel)}</text>`);
      parts.push(`<text x="${chartX + chartW + 70}" y="${y + barH - 3}" class="raw">${esc(fmt(x.median))} ${esc(x.figure.unit)}</text>`);
      y += barH + gap;
    }
    y += 8;
  }
  const H = y + 30;
  const grid: string[] = [];
  const ticks = Math.round(Math.log2(hi / lo)) + 1;
  const every = ticks > 13 ? 2 : 1; // label every other power of two when they would crowd
  for (let k = 0, v = lo; v <= hi * 1.0001; v *= 2, k++) {
    const gx = X(v);
    const one = Math.abs(v - 1) < 1e-9;
    grid.push(`<line x1="${gx.toFixed(1)}" y1="${top - 8}" x2="${gx.toFixed(1)}" y2="${H - 30}" class="${one ? 'one' : 'grid'}"/>`);
    if (!one && Math.round(Math.log2(v)) % every !== 0) continue;
    const t = v >= 1 ? `${v}x` : `1/${Math.round(1 / v)}x`;
    grid.push(`<text x="${gx.toFixed(1)}" y="${top - 12}" text-anchor="middle" class="tick">${t}</text>`);
    grid.push(`<text x="${gx.toFixed(1)}" y="${H - 14}" text-anchor="middle" class="tick">${t}</text>`);
  }
  const title = `tsfuse vs peers — ${r.meta.quick ? 'quick run' : 'full run'}, ${r.meta.date.slice(0, 16).replace('T', ' ')}, median of ${r.meta.rounds} rounds`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
    '<style>.fig{font-size:12px;font-weight:bold;fill:#222}.unit{font-weight:normal;fill:#666}.lab{font-size:11px;fill:#333}.val{font-size:10px;fill:#111}.raw{font-size:10px;fill:#777}.tick{font-size:10px;fill:#555}.grid{stroke:#ddd;stroke-width:1}.one{stroke:#000;stroke-width:1.5}</style>',
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="42" font-size="11" fill="#444">Speed relative to the tsfuse reference of each figure (● = the reference, 1x). Log scale. Bars to the right: the contender beats tsfuse; to the left: tsfuse wins.</text>`,
    `<text x="10" y="58" font-size="11" fill="#444">Right column: the contender's median. ${esc(r.meta.machine.cpu ?? '')}, ${esc(r.meta.machine.cores ?? '')} cores, kernel ${esc(r.meta.machine.kernel ?? '')}, node ${esc(r.meta.machine.node ?? '')}.</text>`,
    ...grid,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

export function writeReports(r: RunResults, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'latest.json'), join(dir, 'latest.md'), join(dir, 'latest.svg')];
  writeFileSync(files[0], JSON.stringify(r, null, 2) + '\n');
  writeFileSync(files[1], markdown(r));
  writeFileSync(files[2], svg(r));
  return files;
}
