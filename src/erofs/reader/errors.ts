// Errors the reader throws. Both are Errnos, so a caller that lets one escape to the FUSE server still answers
// with a sensible errno (EIO / EOPNOTSUPP) instead of the server's generic "unexpected exception" path.

import { Errno, ERRNO } from '../../protocol/errno.js';
import { CorruptDataError } from '../../fs/image-errors.js';

/** The image contradicts itself or points outside itself. `reason` says what was wrong, for the log. */
export class CorruptImageError extends CorruptDataError {
  constructor(reason: string) {
    super('EROFS', reason);
    this.name = 'CorruptImageError';
  }
}

/** The image is valid but uses something this reader does not implement (lzma, zstd, extra devices...). */
export class UnsupportedFeatureError extends Errno {
  readonly feature: string;
  constructor(feature: string) {
    super(ERRNO.EOPNOTSUPP, `unsupported EROFS feature: ${feature}`);
    this.name = 'UnsupportedFeatureError';
    this.feature = feature;
  }
}

export function corrupt(reason: string): never {
  throw new CorruptImageError(reason);
}
