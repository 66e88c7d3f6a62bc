// Errors of the PuzzleFS readers. A corrupt image is an Errno (EIO), so a caller that lets one escape to the
// FUSE server still answers EIO; `reason` says what was wrong, for the one log line.

import { CorruptDataError } from '../fs/image-errors.js';

export class CorruptPuzzleError extends CorruptDataError {
  constructor(reason: string) {
    super('PuzzleFS', reason);
    this.name = 'CorruptPuzzleError';
  }
}

export function corrupt(reason: string): never {
  throw new CorruptPuzzleError(reason);
}
