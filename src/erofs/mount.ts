// Serving an EROFS/composefs image: a worker-mode session whose workers each open the same image (the page
// cache is shared, nothing is copied), optionally with overlayfs on top (metadata-only mode).

import { Session } from '../server/session.js';
import { mountOverlay, unmountOverlay } from './overlay.js';
import { isRemoteName } from '../remote/names.js';
import { SharedInflight } from '../remote/shared-inflight.js';
import { RemoteStats } from '../remote/stats.js';
import { erofsMountSpec, type MountErofsOptions } from './mount-spec.js';

export { IMAGE_READDIRPLUS, type MountErofsOptions } from './mount-spec.js';

export interface MountedErofs {
  session: Session;
  /** Remote images: fetch statistics of all workers, one line. */
  remoteStats?: () => string;
  overlay?: string;
  closed: Promise<void>;
  unmount(): Promise<void>;
}

export async function mountErofs(o: MountErofsOptions): Promise<MountedErofs> {
  const remoteStats = isRemoteName(o.image) || (o.basedir !== undefined && isRemoteName(o.basedir)) ? new RemoteStats() : undefined;
  const spec = erofsMountSpec(o, remoteStats && { stats: remoteStats.buffer, inflight: new SharedInflight().buffer });
  const session = await Session.mount(spec.module, spec.session);
  let overlay: string | undefined;
  if (o.overlay) {
    try {
      // The kernel reads the objects itself here, so only overlayfs can check them: require asks it to (objects
      // then need fs-verity enabled); check and off leave them unchecked in this mode.
      const verityRequire = o.verity === 'require';
      mountOverlay({ target: o.overlay, lower: o.mountpoint, data: o.basedir!, upperdir: o.upperdir, workdir: o.workdir, verityRequire });
      overlay = o.overlay;
    } catch (err) {
      await session.unmount();
      throw err;
    }
  }
  return {
    session,
    remoteStats: remoteStats && (() => remoteStats.format()),
    overlay,
    closed: session.closed,
    async unmount() {
      if (overlay) unmountOverlay(overlay);
      await session.unmount();
    },
  };
}
