// A small argument parser: flags declared per command, positional arguments counted. Every mistake is a
// UsageError, which main turns into one line on stderr and exit code 2.

export class UsageError extends Error {}

export interface FlagSpec {
  /** 'bool' takes no value; 'string'/'int' take the next argument (or --flag=value). */
  kind: 'bool' | 'string' | 'int' | 'list';
  short?: string;
}

export interface Parsed {
  positional: string[];
  flags: Record<string, string | boolean | number | string[] | undefined>;
}

export function parseArgs(argv: string[], spec: Record<string, FlagSpec>, positionals: { min: number; max: number; names: string }): Parsed {
  const flags: Parsed['flags'] = {};
  const positional: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.short) byShort.set(s.short, name);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
      if (!(name in spec)) throw new UsageError(`unknown option --${name}`);
    } else if (a.startsWith('-') && a.length > 1) {
      const s = a.slice(1, 2);
      name = byShort.get(s);
      if (!name) throw new UsageError(`unknown option ${a}`);
      if (a.length > 2) inline = a.slice(2);
    } else {
      positional.push(a);
      continue;
    }
    const s = spec[name];
    if (s.kind === 'bool') {
      if (inline !== undefined) throw new UsageError(`option --${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`option --${name} needs a value`);
    if (s.kind === 'int') {
      if (!/^\d+$/.test(value)) throw new UsageError(`option --${name} needs a whole number, got '${value}'`);
      flags[name] = Number(value);
    } else if (s.kind === 'list') {
      const prev = (flags[name] as string[] | undefined) ?? [];
      flags[name] = [...prev, value];
    } else flags[name] = value;
  }
  if (positional.length < positionals.min) throw new UsageError(`missing argument: expected ${positionals.names}`);
  if (positional.length > positionals.max) throw new UsageError(`unexpected argument '${positional[positionals.max]}'`);
  return { positional, flags };
}

/** Splits repeated -o values ("a,b" and "c") into single options, keeping escaped commas (\,). */
export function splitMountOptions(values: string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values ?? []) {
    let cur = '';
    for (let i = 0; i < v.length; i++) {
      if (v[i] === '\\' && v[i + 1] === ',') {
        cur += ',';
        i++;
      } else if (v[i] === ',') {
        if (cur) out.push(cur);
        cur = '';
      } else cur += v[i];
    }
    if (cur) out.push(cur);
  }
  return out;
}
