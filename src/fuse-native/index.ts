// ESM entry of tsfuse/fuse-native: the same class as the CommonJS entry (fuse.cjs). See fuse.cts for the API
// and every difference from fuse-native.
import Fuse from './fuse.cjs';
export default Fuse;
export type { FuseNativeOptions } from './adapter.js';
export type { FuseNativeStat, FuseNativeStatfs } from './stat.js';
