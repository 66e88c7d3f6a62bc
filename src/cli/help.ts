export const VERSION = '0.1.0';

export const HELP = `tsfuse ${VERSION} - FUSE servers in TypeScript, speaking /dev/fuse directly

Usage:
  tsfuse sample [DIR] [--keep] [--workers N]
        Build a sample tree into an EROFS image, serve it with tsfuse, check it against the kernel's
        own EROFS mount, and unmount (needs root).
  tsfuse memfs MOUNTPOINT [-o OPTIONS] [--workers N] [--foreground] [--debug]
        Mount a RAM filesystem.
  tsfuse passthrough SOURCE MOUNTPOINT [-o OPTIONS] [--nocache] [--nopassthrough]
                     [--embedded] [--foreground] [--debug] [--no-warm-up] [--spin-us N]
        Mirror SOURCE read-write; regular files use kernel passthrough when the kernel allows it. One worker
        thread serves (the inode table lives in it); --embedded serves from the main thread instead.
        The worker compiles its request path on files of its own in a scratch directory (never in SOURCE)
        once the mount is quiet after start-up (real requests first); --no-warm-up leaves that to the first
        real requests. --spin-us N: after each answer the worker polls for the next request for up to N µs
        before it sleeps (default 0, never), and less often while the polls find nothing: faster
        back-to-back metadata calls, at the cost of that CPU while a client keeps calling.
  tsfuse erofs mount IMAGE MOUNTPOINT [--basedir DIR] [--passthrough]
                     [--overlay DIR [--upperdir U --workdir W]] [--workers N] [--foreground] [--debug]
                     [--cache-size SIZE] [--verity off|check|require] [--no-warm-up]
        Serve an EROFS (or composefs) image. --basedir names the composefs object store (a directory,
        or an http(s):// or s3:// prefix whose objects XX/REST are fetched lazily);
        --passthrough hands object files to the kernel; --overlay DIR mounts overlayfs at DIR on top of
        a metadata-only FUSE mount so the kernel reads content from the object store directly.
        --cache-size SIZE (like 64M; default 16M, at least 8M per worker) bounds the decoded-image caches
        of the whole server, shared out between the workers; image bytes stay in the kernel's page cache.
        --verity: an object's fs-verity digest must match the image's before its first open (EIO and a
        log line if not): check (default) when the image records one, require also refuses files without
        one, off never checks. Measured by the kernel when the object has fs-verity, else hashed once.
        Each worker compiles its request path on a small built-in image once the mount is quiet after
        start-up (real requests first); --no-warm-up leaves that to the first real requests.
  tsfuse erofs dump IMAGE      Print the image as a composefs dumpfile.
  tsfuse erofs info IMAGE      Print the superblock and features.
  tsfuse puzzlefs build SOURCE OCI_DIR:TAG [--compression zstd|none] [--base OCI_DIR:TAG]
        Write a PuzzleFS image of SOURCE into an OCI layout (FastCDC chunks, seekable zstd); --base adds
        a layer on top of an existing image (changed inodes and whiteouts only, chunks reused).
  tsfuse puzzlefs mount OCI_DIR[:TAG] MOUNTPOINT [--digest HEX] [--verity] [--workers N] [--foreground] [--debug]
        Serve a PuzzleFS image. --verity checks every blob's fs-verity digest; --digest also pins the
        manifest's (as printed by build). The tag may be left out when the layout has one.
        The image may be remote, its blobs fetched lazily and checked against their digests:
        http(s)://HOST/PATH[:TAG] or s3://BUCKET/PREFIX[:TAG] (an OCI layout published under that prefix),
        docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry manifest with a PuzzleFS rootfs layer); with
        --cache DIR | --no-cache, --cache-limit SIZE, --s3-endpoint URL, --remote-timeout SECONDS.
  tsfuse puzzlefs dump OCI_DIR[:TAG]   List the image: path, type, mode, owner, size, target, xattrs, sha256.
  tsfuse puzzlefs info OCI_DIR[:TAG]   Print the manifest, rootfs, layers and blob counts.
        dump and info take the remote names and flags that mount does.
  tsfuse umount MOUNTPOINT     Unmount (lazily); the serving process then exits.
  tsfuse mkcomposefs [--digest-store=DIR] [--use-epoch] [--skip-devices] [--skip-xattrs] [--user-xattrs]
                     [--print-digest] [--print-digest-only] [--from-file] [--min-version=N]
                     [--max-version=N] [--threads=N] SOURCE IMAGE
        Write a composefs image of SOURCE (a directory, or with --from-file a dumpfile, - for stdin),
        byte for byte what mkcomposefs 1.0.8 writes; --digest-store fills an object store.
  tsfuse erofs build SOURCE IMAGE [--chunksize N] [-b 512|1024|2048|4096] [--all-root]
                     [--uid-offset N] [--ignore-mtime] [--compress lz4|lz4hc|zstd|deflate[,LEVEL]|none]
        Write an EROFS image of SOURCE that any kernel mounts. --compress lz4 (fast) or lz4hc (smaller):
        files in one-block LZ4 pclusters with compact indexes, kept flat when that saves nothing (as
        mkfs.erofs does); not with --chunksize, which stores chunk-based files with zero chunks as holes.

Mount commands return once the mount is ready and keep serving in the background, unless --foreground.
Options:
  -o OPTIONS       FUSE mount options, comma-separated: allow_other, default_permissions (on by default),
                   ro, fsname=NAME, subtype=NAME, max_read=N, nosuid, nodev, noexec, noatime, ...
                   io_uring (serve over FUSE io_uring where the kernel offers it, worker-mode mounts:
                   erofs, puzzlefs), io_uring_q_depth=N (entries per CPU queue, default 8).
  --workers N      Threads serving the mount, each with its own /dev/fuse fd (default: one per CPU).
  --foreground     Stay in the foreground; SIGINT/SIGTERM unmount cleanly.
  --debug          Trace every request and reply by opcode name on stderr.
  --log FILE       Where a background server writes its log (default: nowhere).
`;
