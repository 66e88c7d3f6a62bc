// The filesystem module of a local EROFS image, held by the bundle files that load it by path (mount-spec.ts
// names it; src/server/bundled.ts looks it up by its path under dist/). The command and the server load it in
// their main thread too, as they serve first.

export const LOCAL_EROFS = { 'src/erofs/filesystem.js': () => import('../../erofs/filesystem.js') };
