// `tsfuse puzzlefs info`: what an image is made of (tags, manifest, rootfs, layers, inode and blob counts).

import type { PuzzleImage } from './image.js';
import { MEDIA_ROOTFS, VERITY_ROOT_HASH_ANNOTATION } from './oci.js';

export function describeImage(img: PuzzleImage): string {
  const rf = img.rootfs;
  const blobs = img.manifest.layers.filter((l) => l.mediaType !== MEDIA_ROOTFS);
  const compressed = blobs.filter((l) => l.mediaType.endsWith('+zstd')).length;
  const lines = [
    `layout          ${img.layout.name}`,
    `tags            ${img.layout.tags().join(', ')}`,
    `manifest        ${img.manifestDescriptor.digest} (${img.manifestDescriptor.size} bytes)`,
    `rootfs          ${img.rootfsDescriptor.digest} (${img.rootfsDescriptor.size} bytes, manifest version ${rf.manifestVersion})`,
    `rootfs verity   ${img.rootfsDescriptor.annotations?.[VERITY_ROOT_HASH_ANNOTATION] ?? '(none)'}`,
    `layers          ${rf.layers.length} (inodes per layer, top first: ${rf.layers.map((l) => l.length).join(', ')})`,
    `reachable       ${img.reachable} inodes`,
    `file data       ${blobs.length} blobs (${compressed} seekable zstd), ${blobs.reduce((n, l) => n + l.size, 0)} bytes`,
    `fs-verity data  ${rf.verity.length} digests`,
  ];
  return lines.join('\n') + '\n';
}
