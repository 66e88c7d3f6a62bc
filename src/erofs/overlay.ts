// overlayfs on top of a metadata-only FUSE mount of a composefs image: the FUSE mount shows the overlay
// xattrs as user.overlay.* (so `userxattr` works without trusted.* privileges) and the object store is a
// data-only lower layer ("lower::data"), so the kernel reads file content straight from the objects.
// Measured here (kernel 6.18): `userxattr` refuses an explicit metacopy=on, but a data-only layer still
// follows user.overlay.redirect of metacopy files.

import { mount, umount2, MNT } from '../kernel/vfs.js';

export interface OverlayOptions {
  target: string;
  /** The FUSE mount (metadata-only mode). */
  lower: string;
  /** The object store: redirects are absolute paths below it. */
  data: string;
  /** With workdir: a writable view. */
  upperdir?: string;
  workdir?: string;
  /**
   * overlayfs' own fs-verity check of the objects it reads (verity=require: every metacopy file needs a digest and
   * its object fs-verity with that digest; there is no software fallback in the kernel).
   */
  verityRequire?: boolean;
}

function escapeLayer(p: string): string {
  // overlayfs option values: ',' and ':' and '\' are escaped with a backslash
  return p.replace(/([\\,:])/g, '\\$1');
}

export function overlayMountData(o: OverlayOptions): string {
  const parts = [`lowerdir=${escapeLayer(o.lower)}::${escapeLayer(o.data)}`, 'userxattr'];
  if (o.verityRequire) parts.push('verity=require');
  if (o.upperdir || o.workdir) {
    if (!o.upperdir || !o.workdir) throw new Error('overlay: upperdir and workdir go together');
    parts.push(`upperdir=${escapeLayer(o.upperdir)}`, `workdir=${escapeLayer(o.workdir)}`);
  }
  return parts.join(',');
}

export function mountOverlay(o: OverlayOptions): void {
  mount('composefs', o.target, 'overlay', o.upperdir ? 0 : 1 /* MS_RDONLY */, overlayMountData(o));
}

export function unmountOverlay(target: string): void {
  umount2(target, MNT.DETACH);
}
