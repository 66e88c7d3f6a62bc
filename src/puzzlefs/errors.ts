// Errors of the PuzzleFS readers. A corrupt image is an Errno (EIO), so a caller that lets one escape to the
// FUSE server still answers EIO; `reason` says what was wrong, for the one log line.

import { Errno, ERRNO } from '../protocol/errno.js';

export class CorruptPuzzleError extends Errno {
  readonly reason: string;
  constructor(reason: string) {
    super(ERRNO.EIO, `corrupt PuzzleFS image: ${reason}`);
    this.name = 'CorruptPuzzleError';
    this.reason = reason;
  }
}

export function corrupt(reason: string): never {
  throw new CorruptPuzzleError(reason);
}
