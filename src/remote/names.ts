// Which image names are remote (kept apart so the CLI can tell without loading the remote modules).

export function isRemoteName(spec: string): boolean {
  return /^(https?|s3|docker):\/\//.test(spec);
}
