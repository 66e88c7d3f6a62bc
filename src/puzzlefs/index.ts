// tsfuse/puzzlefs: read, build, dump and serve PuzzleFS images in OCI layouts.

export { CapnpMessage, CapStruct, CapStructList } from './capnp.js';
export { CapnpBuilder } from './capnp-writer.js';
export { CorruptPuzzleError } from './errors.js';
export { OciLayout, TAG_ANNOTATION, MEDIA_ROOTFS, MEDIA_FILEDATA, VERITY_ROOT_HASH_ANNOTATION } from './oci.js';
export { readSeekTable, readRange, encodeSeekable, appendSeekTable, SEEKABLE_MAGIC } from './seekable-zstd.js';
export { FastCdc, PUZZLEFS_MIN, PUZZLEFS_AVG, PUZZLEFS_MAX } from './fastcdc.js';
export { fsverityDigest } from '../verity/digest.js';
export { openRootfs, encodeRootfs, decodeInode, MANIFEST_VERSION, type PuzzleInode } from './schema.js';
export { PuzzleImage, ROOT_INO, type OpenImageOptions } from './image.js';
export { PuzzleFilesystem, createFilesystem, type PuzzleFilesystemOptions } from './filesystem.js';
export { buildImage, type BuildOptions, type BuildResult } from './builder.js';
export { dumpImage } from './dump.js';
export { mountPuzzlefs, type MountPuzzleOptions } from './mount.js';
