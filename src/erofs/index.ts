// tsfuse/erofs: read EROFS and composefs images, dump and describe them, and serve them as a Filesystem.

export type { ByteSource } from './bytesource.js';
export { FileByteSource } from './file-byte-source.js';
export { BufferByteSource, isViewable, type ViewableByteSource } from './buffer-byte-source.js';

export { ErofsReader, type ReaderOptions, type ImageInput } from './reader/reader.js';
import { ErofsReader, type ReaderOptions, type ImageInput } from './reader/reader.js';
/** Opens an image for reading (path via pread, or memory); the same as ErofsReader.open. */
export function openImage(input: ImageInput, options?: ReaderOptions): ErofsReader {
  return ErofsReader.open(input, options);
}
export type { ErofsInode } from './reader/inode.js';
export type { DirEntry, DirEntryAt } from './reader/dir.js';
export type { XattrRecord, LongPrefix } from './reader/xattr.js';
export type { Superblock, CompressionConfigs } from './reader/superblock.js';
export { formatNid, nidInMetabox } from './reader/superblock.js';
export { CorruptImageError, UnsupportedFeatureError } from './reader/errors.js';
export { lz4DecompressBlock } from './reader/lz4.js';

export { dumpComposefs, dumpComposefsToString } from './dump.js';
export { describeImage, imageInfo, type ImageInfo, type ImageCounts } from './describe.js';
export { type ViewMode, type Redirect, redirectOf, viewXattrs, rawXattrs } from './composefs.js';
export { ObjectStore, validateRedirect } from './object-store.js';
export { ObjectVerifier, VerityError, VERITY_MODES, type VerityMode, type VerityCounters } from './verity-check.js';
export {
  ErofsFilesystem,
  createErofsFilesystem,
  createFilesystem,
  type ErofsFilesystemOptions,
} from './filesystem.js';
// Image writers (src/erofs/writer): composefs images as mkcomposefs 1.0.8 writes them, plain EROFS images.
export { mkcomposefs, type MkcomposefsOptions } from './writer/mkcomposefs.js';
export { buildErofs, type BuildOptions } from './writer/build.js';
export { VerityHasher, fsverityDigest, digestObjectPath } from '../verity/digest.js';
