// The image server's request path without the kernel, for the in-process benches (erofs-dispatch,
// erofs-cold-walk): an ErofsFilesystem of a compiled tree behind that tree's Dispatcher, replies written to
// /dev/null. The modules come from `root` (a compiled checkout), so one run can compare two builds.

import { openSync } from 'node:fs';
import { join } from 'node:path';

type Module = Record<string, any>;

export interface InProcessServer {
  /** The filesystem itself, for calls outside the dispatcher (e.g. resolving paths to inodes). */
  fs: Module;
  /** Dispatches the request held in `wire` (a WireBuffer, `len` bytes); the reply, valid until the next call. */
  dispatch(wire: unknown, len: number): Buffer;
}

export interface RequestPath {
  WireBuffer: new (size: number) => { buf: Buffer };
  Opcode: Record<string, number>;
  InitFlags: Module;
  /** A new filesystem of `image`, INIT done with `initFlags`, entry and attribute timeouts `timeout`. */
  serve(image: string, timeout: number, initFlags?: number): Promise<InProcessServer>;
}

export async function loadRequestPath(root: string): Promise<RequestPath> {
  const load = (rel: string): Promise<Module> => import(join(root, rel));
  const [{ createErofsFilesystem }, { Dispatcher }, { DeviceChannel }, { InterruptTable }, { Lane }, { WireBuffer }, { InitFlags, Opcode }] =
    await Promise.all([
      load('src/erofs/filesystem.js'), load('src/server/dispatch.js'), load('src/server/channel.js'),
      load('src/server/interrupts.js'), load('src/server/lane.js'), load('src/protocol/wire.js'), load('src/protocol/abi.js'),
    ]);
  const log = (m: string): void => void process.stderr.write(m + '\n');
  const devnull = openSync('/dev/null', 'w');
  const lane = new Lane(1 << 20);
  return {
    WireBuffer, Opcode, InitFlags,
    async serve(image, timeout, initFlags = 0) {
      const fs = createErofsFilesystem({ image, timeout });
      await fs.init({ minor: 45, flags: initFlags, maxWrite: 1 << 20, maxReadahead: 0, passthrough: false });
      const d = new Dispatcher(fs, { entryTimeout: timeout, attrTimeout: timeout, negativeTimeout: 0, debug: false, setxattrExt: true, log }, new InterruptTable(), new DeviceChannel(log));
      return {
        fs,
        dispatch(wire, len) {
          d.dispatch(lane, devnull, wire, len);
          return (lane.out as { buf: Buffer }).buf;
        },
      };
    },
  };
}
