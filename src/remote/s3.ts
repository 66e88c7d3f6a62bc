// s3://BUCKET/KEY as an HTTP object: path-style URLs on the endpoint (AWS, or --s3-endpoint / AWS_ENDPOINT_URL for
// MinIO, Ceph RGW, R2-style stores) and SigV4-signed requests (aws4fetch, a small, widely used signer).
// Credentials the way the AWS tools find them: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
// else the profile (AWS_PROFILE, default "default") in AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials; the
// region from AWS_REGION / AWS_DEFAULT_REGION, else the profile in AWS_CONFIG_FILE or ~/.aws/config, else us-east-1.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AwsClient } from 'aws4fetch';
import type { Authorize } from './http-object.js';

export interface S3Location {
  bucket: string;
  key: string;
}

export function parseS3Url(spec: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(spec);
  if (!m) throw new Error(`${spec}: expected s3://BUCKET/KEY`);
  return { bucket: m[1]!, key: m[2]! };
}

/** Sections of an AWS ini file ("[name]" or "[profile name]" headers, key = value lines). */
function readIni(file: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  let cur: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const h = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (h) {
      cur = {};
      out.set(h[1]!, cur);
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (kv && cur) cur[kv[1]!.toLowerCase()] = kv[2]!;
  }
  return out;
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
}

export function awsCredentials(env: NodeJS.ProcessEnv = process.env): AwsCredentials {
  const profile = env.AWS_PROFILE || 'default';
  const home = env.HOME || homedir();
  const creds = readIni(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials')).get(profile) ?? {};
  const config = readIni(env.AWS_CONFIG_FILE || join(home, '.aws', 'config')).get(profile) ?? {};
  const accessKeyId = env.AWS_ACCESS_KEY_ID || creds.aws_access_key_id || config.aws_access_key_id;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY || creds.aws_secret_access_key || config.aws_secret_access_key;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(`no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile "${profile}" in ~/.aws/credentials`);
  }
  const sessionToken = env.AWS_SESSION_TOKEN || creds.aws_session_token || undefined;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || config.region || 'us-east-1';
  return { accessKeyId, secretAccessKey, sessionToken, region };
}

/** The object's URL (path style) and a request signer for it. */
export function s3Object(spec: string, endpoint?: string, env: NodeJS.ProcessEnv = process.env): { url: string; authorize: Authorize } {
  const { bucket, key } = parseS3Url(spec);
  const c = awsCredentials(env);
  const base = (endpoint || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || `https://s3.${c.region}.amazonaws.com`).replace(/\/+$/, '');
  const url = `${base}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const client = new AwsClient({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, service: 's3', region: c.region });
  const authorize: Authorize = async (method, u, headers) => {
    const signed = await client.sign(u, { method, headers });
    const out: Record<string, string> = {};
    signed.headers.forEach((v, k) => {
      out[k] = v;
    });
    return out;
  };
  return { url, authorize };
}
