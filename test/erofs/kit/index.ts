// The EROFS conformance test kit: source trees, images, kernel mounts, dumps, composefs images, corruption.
export * from '../../helpers/bytes.js';
export * from './composefs.js';
export * from './corrupt.js';
export * from '../../helpers/tree-dump.js';
export * from './erofsmap.js';
export * from './fsverity.js';
export * from './images.js';
export * from '../../helpers/kernel-mount.js';
export * from './mtimes.js';
export * from './prng.js';
export * from '../../helpers/proc.js';
export * from './tree.js';
export * from '../../helpers/xattrs.js';
