export const VERSION = '0.1.0';

export const HELP = `tsfuse ${VERSION} - FUSE servers in TypeScript, speaking /dev/fuse directly

Usage:
  tsfuse sample [DIR] [--keep] [--workers N]
        Build a sample tree into an EROFS image, serve it with tsfuse, check it against the kernel's
        own EROFS mount, and unmount (needs mkfs.erofs and root).
  tsfuse memfs MOUNTPOINT [-o OPTIONS] [--workers N] [--foreground] [--debug]
        Mount a RAM filesystem.
  tsfuse passthrough SOURCE MOUNTPOINT [-o OPTIONS] [--nocache] [--nopassthrough]
                     [--workers N] [--foreground] [--debug]
        Mirror SOURCE read-write; regular files use kernel passthrough when the kernel allows it.
  tsfuse erofs mount IMAGE MOUNTPOINT [--basedir DIR] [--passthrough]
                     [--overlay DIR [--upperdir U --workdir W]] [--workers N] [--foreground] [--debug]
                     [--cache-size SIZE]
        Serve an EROFS (or composefs) image. --basedir names the composefs object store;
        --passthrough hands object files to the kernel; --overlay DIR mounts overlayfs at DIR on top of
        a metadata-only FUSE mount so the kernel reads content from the object store directly.
        --cache-size SIZE (like 64M; default 16M per worker) bounds the decoded-image caches of the
        whole server, shared out between the workers; image bytes stay in the kernel's page cache.
  tsfuse erofs dump IMAGE      Print the image as a composefs dumpfile.
  tsfuse erofs info IMAGE      Print the superblock and features.
  tsfuse umount MOUNTPOINT     Unmount (lazily); the serving process then exits.

Mount commands return once the mount is ready and keep serving in the background, unless --foreground.
Options:
  -o OPTIONS       FUSE mount options, comma-separated: allow_other, default_permissions (on by default),
                   ro, fsname=NAME, subtype=NAME, max_read=N, nosuid, nodev, noexec, noatime, ...
  --workers N      Threads serving the mount, each with its own /dev/fuse fd (default: one per CPU).
  --foreground     Stay in the foreground; SIGINT/SIGTERM unmount cleanly.
  --debug          Trace every request and reply by opcode name on stderr.
  --log FILE       Where a background server writes its log (default: nowhere).
`;
