// FUSE over io_uring (reference/fuse_kernel.h, protocol 7.42): the layouts the kernel and the server share
// per ring entry. A request arrives split in three: fuse_in_header in `in_out`, the opcode's own fixed
// struct (the kernel's first in-argument, possibly empty) in `op_in`, and everything after it in the payload
// buffer, whose used size is ring_ent_in_out.payload_sz. A reply goes back as fuse_out_header in `in_out`
// and its whole body in the payload buffer, payload_sz again saying how much.

/** enum fuse_uring_cmd: the SQE's cmd_op. */
export const FuseUringCmd = { REGISTER: 1, COMMIT_AND_FETCH: 2 } as const;

/** struct fuse_uring_req_header (byte offsets). */
export const URING_HEADER = {
  inOut: 0,
  opIn: 128,
  /** struct fuse_uring_ent_in_out: flags u64, commit_id u64, payload_sz u32 */
  entFlags: 256,
  entCommitId: 264,
  entPayloadSize: 272,
  size: 288,
} as const;
export const URING_OP_IN_SIZE = 128;

/** struct fuse_uring_cmd_req inside the SQE's command area (offsets from the area's start). */
export const URING_CMD_REQ = { flags: 0, commitId: 8, qid: 16 } as const;

/** Header and payload: the two iovecs REGISTER hands over. */
export const URING_IOV_SEGS = 2;
