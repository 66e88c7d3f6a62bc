// The path-based filesystem API: the interface, the layer that serves it, and its worker-mode entry.
export type { PathFilesystem, PathAttr, PathDirent, PathLayerOptions } from './types.js';
export { PathLayer, pathFilesystem } from './layer.js';
export { pathWorkerModule, createPathLayer, type PathWorkerOptions } from './worker.js';
