// The writing half of a read-only filesystem (an image): every operation that would change it answers EROFS,
// so the kernel reports "Read-only file system" rather than ENOSYS. Image servers extend this class.

import { Errno, ERRNO } from '../protocol/errno.js';
import type { Attr, CreateReply, Entry, Filesystem } from './types.js';

export abstract class ReadOnlyFilesystem implements Filesystem {
  setattr(): Attr { throw new Errno(ERRNO.EROFS); }
  mknod(): Entry { throw new Errno(ERRNO.EROFS); }
  mkdir(): Entry { throw new Errno(ERRNO.EROFS); }
  unlink(): void { throw new Errno(ERRNO.EROFS); }
  rmdir(): void { throw new Errno(ERRNO.EROFS); }
  symlink(): Entry { throw new Errno(ERRNO.EROFS); }
  rename(): void { throw new Errno(ERRNO.EROFS); }
  link(): Entry { throw new Errno(ERRNO.EROFS); }
  write(): number { throw new Errno(ERRNO.EROFS); }
  create(): CreateReply { throw new Errno(ERRNO.EROFS); }
  tmpfile(): CreateReply { throw new Errno(ERRNO.EROFS); }
  fallocate(): void { throw new Errno(ERRNO.EROFS); }
  setxattr(): void { throw new Errno(ERRNO.EROFS); }
  removexattr(): void { throw new Errno(ERRNO.EROFS); }
}
