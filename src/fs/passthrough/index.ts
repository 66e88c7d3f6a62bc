// The passthrough filesystem: mirrors a source directory (libfuse's passthrough_hp counterpart).
export { PassthroughFs, createPassthroughFs, type PassthroughOptions } from './passthrough.js';
export { passthroughModule, PASSTHROUGH_MODULE_WANT } from './module.js';
