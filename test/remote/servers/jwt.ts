// The registry token format (distribution's docs/spec/auth/jwt.md): a JWT signed RS256 whose header carries the
// signing certificate (x5c), so a registry that trusts that certificate (auth.token.rootcertbundle) verifies
// the signature itself. Shared by the token server and the test that forges a token with another key.

import { randomBytes, sign, X509Certificate } from 'node:crypto';

export interface RegistryAccess {
  type: 'repository';
  name: string;
  actions: string[];
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/** A token for `subject` with `access`, valid for `ttlSeconds`, signed with keyPem; certPem goes in x5c. */
export function registryToken(o: { keyPem: string; certPem: string; issuer: string; service: string; subject: string; access: RegistryAccess[]; ttlSeconds?: number }): string {
  const der = new X509Certificate(o.certPem).raw;
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] };
  const claims = {
    iss: o.issuer, sub: o.subject, aud: o.service, exp: now + (o.ttlSeconds ?? 300), nbf: now - 10, iat: now,
    jti: randomBytes(12).toString('hex'), access: o.access,
  };
  const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${signing}.${b64url(sign('sha256', Buffer.from(signing), o.keyPem))}`;
}

/** "repository:NAME:pull,push" scopes -> access entries. */
export function parseScopes(scopes: string[]): RegistryAccess[] {
  const out: RegistryAccess[] = [];
  for (const s of scopes) {
    const m = /^repository:([^:]+):([a-z,*]+)$/.exec(s);
    if (m) out.push({ type: 'repository', name: m[1]!, actions: m[2]!.split(',') });
  }
  return out;
}
