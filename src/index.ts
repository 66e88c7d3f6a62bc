// tsfuse: the public API.
export { Session, type SessionOptions, type NegotiatedInit } from './server/session.js';
export * from './fs/types.js';
export { Errno, ERRNO, errnoOf, errnoName, type ErrnoName } from './protocol/errno.js';
export { FOPEN, FATTR, InitFlags, FopenFlags, type InitFlag } from './protocol/abi.js';
export { MemFs, createMemFs, type MemFsOptions } from './fs/memfs.js';
export * from './fs/path/index.js';
