// Client load for the tsfuse benchmarks: each subcommand does one kind of file system work against a path
// and prints one JSON line with what it did and CLOCK_MONOTONIC timestamps (the same clock as Node's
// process.hrtime), so the harness can combine several client processes. Every loop is bounded in count and
// in time. Built by bench/lib/clients.ts with `gcc -O2` into bench/data/bin/.
//
//   stat PREFIX LISTFILE STRIDE OFFSET MAXPASSES TIME_MS   lstat PREFIX/line for lines OFFSET, OFFSET+STRIDE...
//   readdir DIR MAXPASSES TIME_MS                          opendir/readdir to the end/closedir
//   seqread FILE BS MAXBYTES TIME_MS                        read() the file sequentially in BS chunks
//   randread FILE BS COUNT TIME_MS SEED                     pread() BS at random BS-aligned offsets
//   cstat DIR COUNT TIME_MS                                 create+close COUNT files, lstat them, unlink them
//   mktree DIR DIRS FILES SIZE                              DIRS subdirectories with FILES files of SIZE bytes
//   waitstat PATH TIMEOUT_MS                                poll stat(PATH) until it succeeds
//   metaw PHASE DIR COUNT TIME_MS                           one metadata write per entry DIR/f00000000...: PHASE
//                                                           create|mkdir (at most COUNT, stops after TIME_MS),
//                                                           chmod|utimens|truncate|rename|unlink|rmdir (all COUNT)

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, const char *arg) {
  fprintf(stderr, "fsbench: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
  exit(1);
}

static void report(const char *kind, uint64_t ops, uint64_t bytes, uint64_t errs, uint64_t t0, uint64_t t1, uint64_t passes) {
  printf("{\"kind\":\"%s\",\"ops\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"t0\":%" PRIu64
         ",\"t1\":%" PRIu64 ",\"ns\":%" PRIu64 ",\"passes\":%" PRIu64 "}\n",
         kind, ops, bytes, errs, t0, t1, t1 - t0, passes);
}

static uint64_t xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

// ---- stat over a file list ----
static int cmd_stat(int argc, char **argv) {
  if (argc != 8) return 2;
  const char *prefix = argv[2];
  FILE *f = fopen(argv[3], "r");
  if (!f) die("open", argv[3]);
  long stride = atol(argv[4]), offset = atol(argv[5]);
  long maxpasses = atol(argv[6]);
  uint64_t limit = (uint64_t)atoll(argv[7]) * 1000000ull;
  size_t cap = 1024, n = 0;
  char **paths = malloc(cap * sizeof *paths);
  char line[4096];
  size_t plen = strlen(prefix);
  long idx = 0;
  while (fgets(line, sizeof line, f)) {
    size_t l = strlen(line);
    if (l && line[l - 1] == '\n') line[--l] = 0;
    if (l == 0) continue;
    if (idx++ % stride != offset) continue;
    if (n == cap) paths = realloc(paths, (cap *= 2) * sizeof *paths);
    char *p = malloc(plen + 1 + l + 1);
    memcpy(p, prefix, plen);
    p[plen] = '/';
    memcpy(p + plen + 1, line, l + 1);
    paths[n++] = p;
  }
  fclose(f);
  struct stat st;
  uint64_t ops = 0, errs = 0, passes = 0;
  uint64_t t0 = now_ns(), deadline = t0 + limit, t1 = t0;
  int stop = 0;
  while (!stop && (long)passes < maxpasses) {
    for (size_t i = 0; i < n; i++) {
      if (lstat(paths[i], &st) != 0) errs++;
      ops++;
      if ((ops & 63) == 0 && now_ns() > deadline) {
        stop = 1;
        break;
      }
    }
    if (!stop) passes++;
  }
  t1 = now_ns();
  report("stat", ops, 0, errs, t0, t1, passes);
  return errs ? 3 : 0;
}

// ---- readdir ----
static int cmd_readdir(int argc, char **argv) {
  if (argc != 5) return 2;
  long maxpasses = atol(argv[3]);
  uint64_t limit = (uint64_t)atoll(argv[4]) * 1000000ull;
  uint64_t ops = 0, passes = 0;
  uint64_t t0 = now_ns(), deadline = t0 + limit;
  while ((long)passes < maxpasses) {
    DIR *d = opendir(argv[2]);
    if (!d) die("opendir", argv[2]);
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) ops++;
    if (errno) die("readdir", argv[2]);
    closedir(d);
    passes++;
    if (now_ns() > deadline) break;
  }
  report("readdir", ops, 0, 0, t0, now_ns(), passes);
  return 0;
}

// ---- sequential read ----
static int cmd_seqread(int argc, char **argv) {
  if (argc != 6) return 2;
  size_t bs = (size_t)atol(argv[3]);
  uint64_t maxbytes = (uint64_t)atoll(argv[4]);
  uint64_t limit = (uint64_t)atoll(argv[5]) * 1000000ull;
  char *buf = aligned_alloc(4096, bs);
  uint64_t t0 = now_ns(), deadline = t0 + limit;
  int fd = open(argv[2], O_RDONLY);
  if (fd < 0) die("open", argv[2]);
  uint64_t bytes = 0, ops = 0;
  for (;;) {
    ssize_t r = read(fd, buf, bs);
    if (r < 0) die("read", argv[2]);
    if (r == 0) break;
    bytes += (uint64_t)r;
    ops++;
    if (bytes >= maxbytes || now_ns() > deadline) break;
  }
  close(fd);
  report("seqread", ops, bytes, 0, t0, now_ns(), 1);
  return 0;
}

// ---- random reads ----
static int cmd_randread(int argc, char **argv) {
  if (argc != 7) return 2;
  size_t bs = (size_t)atol(argv[3]);
  uint64_t count = (uint64_t)atoll(argv[4]);
  uint64_t limit = (uint64_t)atoll(argv[5]) * 1000000ull;
  uint64_t seed = (uint64_t)atoll(argv[6]) * 2654435761ull + 0x9e3779b97f4a7c15ull;
  char *buf = aligned_alloc(4096, bs);
  int fd = open(argv[2], O_RDONLY);
  if (fd < 0) die("open", argv[2]);
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat", argv[2]);
  uint64_t blocks = (uint64_t)st.st_size / bs;
  if (blocks == 0) blocks = 1;
  uint64_t t0 = now_ns(), deadline = t0 + limit;
  uint64_t bytes = 0, ops = 0;
  while (ops < count) {
    off_t off = (off_t)((xorshift(&seed) % blocks) * bs);
    ssize_t r = pread(fd, buf, bs, off);
    if (r < 0) die("pread", argv[2]);
    bytes += (uint64_t)r;
    ops++;
    if ((ops & 15) == 0 && now_ns() > deadline) break;
  }
  close(fd);
  report("randread", ops, bytes, 0, t0, now_ns(), 1);
  return 0;
}

// ---- create / stat / unlink ----
static int cmd_cstat(int argc, char **argv) {
  if (argc != 5) return 2;
  const char *dir = argv[2];
  uint64_t count = (uint64_t)atoll(argv[3]);
  uint64_t limit = (uint64_t)atoll(argv[4]) * 1000000ull;
  char path[4096];
  struct stat st;
  uint64_t t0 = now_ns(), deadline = t0 + limit;
  uint64_t made = 0;
  for (; made < count; made++) {
    snprintf(path, sizeof path, "%s/f%08" PRIu64, dir, made);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0) die("create", path);
    close(fd);
    if ((made & 15) == 0 && now_ns() > deadline) {
      made++;
      break;
    }
  }
  uint64_t t1 = now_ns();
  uint64_t errs = 0;
  for (uint64_t i = 0; i < made; i++) {
    snprintf(path, sizeof path, "%s/f%08" PRIu64, dir, i);
    if (lstat(path, &st) != 0) errs++;
  }
  uint64_t t2 = now_ns();
  for (uint64_t i = 0; i < made; i++) {
    snprintf(path, sizeof path, "%s/f%08" PRIu64, dir, i);
    if (unlink(path) != 0) errs++;
  }
  uint64_t t3 = now_ns();
  printf("{\"kind\":\"cstat\",\"ops\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"t0\":%" PRIu64 ",\"t1\":%" PRIu64
         ",\"create_ns\":%" PRIu64 ",\"stat_ns\":%" PRIu64 ",\"unlink_ns\":%" PRIu64 "}\n",
         made, errs, t0, t3, t1 - t0, t2 - t1, t3 - t2);
  return errs ? 3 : 0;
}

// ---- metadata writes, one kind per run ----
// The harness runs the phases in order as separate processes (create, chmod, utimens, truncate, rename, unlink;
// mkdir, rmdir), so the server's CPU time can be read between them. create and mkdir are bounded by TIME_MS and
// report how many they made, which the later phases then touch. Every call must succeed (a failing call would
// make a phase look cheaper than it is): the first failure ends the run.
static int cmd_metaw(int argc, char **argv) {
  if (argc != 6) return 2;
  const char *phase = argv[2], *dir = argv[3];
  uint64_t count = (uint64_t)atoll(argv[4]);
  uint64_t limit = (uint64_t)atoll(argv[5]) * 1000000ull;
  int create = !strcmp(phase, "create"), mkd = !strcmp(phase, "mkdir"), rmd = !strcmp(phase, "rmdir");
  int chm = !strcmp(phase, "chmod"), utm = !strcmp(phase, "utimens"), trn = !strcmp(phase, "truncate");
  int ren = !strcmp(phase, "rename"), unl = !strcmp(phase, "unlink");
  if (!(create | mkd | rmd | chm | utm | trn | ren | unl)) return 2;
  // rename moves f* to g*, so unlink removes g*; directories are d*
  char kind = mkd || rmd ? 'd' : unl ? 'g' : 'f';
  char path[4096], path2[4096];
  uint64_t t0 = now_ns(), deadline = t0 + limit, i = 0;
  for (; i < count; i++) {
    snprintf(path, sizeof path, "%s/%c%08" PRIu64, dir, kind, i);
    int r;
    if (create) {
      r = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
      if (r >= 0) r = close(r);
    } else if (mkd) {
      r = mkdir(path, 0755);
    } else if (rmd) {
      r = rmdir(path);
    } else if (chm) {
      r = chmod(path, 0600);
    } else if (utm) {
      struct timespec ts[2] = {{1000000000 + (time_t)i, 1}, {1000000000 + (time_t)i, 2}};
      r = utimensat(AT_FDCWD, path, ts, 0);
    } else if (trn) {
      r = truncate(path, 4096);
    } else if (ren) {
      snprintf(path2, sizeof path2, "%s/g%08" PRIu64, dir, i);
      r = rename(path, path2);
    } else {
      r = unlink(path);
    }
    if (r != 0) die(phase, path);
    if ((create || mkd) && (i & 15) == 0 && now_ns() > deadline) {
      i++;
      break;
    }
  }
  report(phase, i, 0, 0, t0, now_ns(), 1);
  return 0;
}

// ---- populate ----
static int cmd_mktree(int argc, char **argv) {
  if (argc != 6) return 2;
  long dirs = atol(argv[3]), files = atol(argv[4]);
  size_t size = (size_t)atol(argv[5]);
  char *buf = calloc(1, size + 1);
  for (size_t i = 0; i < size; i++) buf[i] = (char)('a' + i % 26);
  char path[4096];
  uint64_t t0 = now_ns(), ops = 0;
  for (long d = 0; d < dirs; d++) {
    snprintf(path, sizeof path, "%s/d%04ld", argv[2], d);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) die("mkdir", path);
    ops++;
    for (long i = 0; i < files; i++) {
      snprintf(path, sizeof path, "%s/d%04ld/f%06ld", argv[2], d, i);
      int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
      if (fd < 0) die("create", path);
      if (size && write(fd, buf, size) != (ssize_t)size) die("write", path);
      close(fd);
      ops++;
    }
  }
  report("mktree", ops, 0, 0, t0, now_ns(), 1);
  return 0;
}

// ---- wait until a path can be stat'ed ----
static int cmd_waitstat(int argc, char **argv) {
  if (argc != 4) return 2;
  uint64_t limit = (uint64_t)atoll(argv[3]) * 1000000ull;
  uint64_t t0 = now_ns(), deadline = t0 + limit;
  struct stat st;
  uint64_t tries = 0;
  for (;;) {
    tries++;
    if (stat(argv[2], &st) == 0) break;
    if (now_ns() > deadline) {
      report("waitstat", tries, 0, 1, t0, now_ns(), 0);
      return 4;
    }
    usleep(200);
  }
  report("waitstat", tries, 0, 0, t0, now_ns(), 1);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *c = argv[1];
  int rc = 2;
  if (!strcmp(c, "stat")) rc = cmd_stat(argc, argv);
  else if (!strcmp(c, "readdir")) rc = cmd_readdir(argc, argv);
  else if (!strcmp(c, "seqread")) rc = cmd_seqread(argc, argv);
  else if (!strcmp(c, "randread")) rc = cmd_randread(argc, argv);
  else if (!strcmp(c, "cstat")) rc = cmd_cstat(argc, argv);
  else if (!strcmp(c, "mktree")) rc = cmd_mktree(argc, argv);
  else if (!strcmp(c, "waitstat")) rc = cmd_waitstat(argc, argv);
  else if (!strcmp(c, "metaw")) rc = cmd_metaw(argc, argv);
  if (rc == 2) fprintf(stderr, "fsbench: bad usage of '%s' (%d args)\n", c, argc);
  return rc;
}
