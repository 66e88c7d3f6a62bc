// The filesystem module of a remote EROFS image, held by its workers' bundle file only: a remote mount does not
// serve first, so no main thread loads it (and the command's file stays without the remote stack). Its own
// module: esbuild bundles what a module imports even when the importing constant is unused.

export const REMOTE_EROFS = { 'src/remote/erofs-remote.js': () => import('../../remote/erofs-remote.js') };
