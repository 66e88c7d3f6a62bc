// tsfuse remote images: byte sources over HTTP, S3 and OCI registries with a persistent block cache.

export { openRemoteImage, isRemoteName, type RemoteOptions } from './open.js';
export { awaitingBytes, untilBytes } from './await-bytes.js';
export { BlockCache, defaultCacheDir, type BlockCacheOptions } from './block-cache.js';
export { HttpObject, RemoteError, type HttpObjectOptions, type Authorize } from './http-object.js';
export { RemoteByteSource, type RangeReader, type RemoteByteSourceOptions } from './remote-byte-source.js';
export { OciRegistry, parseOciUrl, type OciReference } from './oci-registry.js';
export { s3Object, parseS3Url, awsCredentials } from './s3.js';
