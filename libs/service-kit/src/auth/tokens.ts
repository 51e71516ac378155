import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ACCESS_STREAM, type Producer } from '@recon/contracts';
import { sha256Hex } from '@recon/eventlog';
import type { Platform } from '@recon/persistence';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** viewer < operator < admin: a role may do everything the roles below it may. */
export function roleAllows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

export interface IssuedToken {
  tokenId: string;
  /** The bearer secret, shown once: `recon_<tokenId>_<secret>`. */
  token: string;
  role: Role;
  expiresAt: string | null;
}

export interface TokenIdentity {
  tokenId: string;
  name: string;
  role: Role;
}

export class TokenRejectedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'TokenRejectedError';
  }
}

const TOKEN = /^recon_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;

export async function issueToken(
  platform: Platform,
  request: { name: string; role: Role; expiresInMs: number | null; actor: string },
  producer: Producer,
): Promise<IssuedToken> {
  const tokenId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = request.expiresInMs === null ? null : new Date(Date.now() + request.expiresInMs).toISOString();
  await platform.eventStore.append(
    ACCESS_STREAM,
    [
      {
        type: 'access.token.created',
        payload: { tokenId, name: request.name, role: request.role, secretHash: sha256Hex(secret), expiresAt, actor: request.actor },
      },
    ],
    { expectedVersion: 'any', producer },
  );
  await platform.projections.awaitProjected();
  return { tokenId, token: `recon_${tokenId}_${secret}`, role: request.role, expiresAt };
}

export async function revokeToken(
  platform: Platform,
  request: { tokenId: string; reason: string; actor: string },
  producer: Producer,
): Promise<void> {
  await platform.projections.awaitProjected();
  const found = await platform.pool.query<{ revoked_at: string | null }>(
    'SELECT revoked_at FROM api_tokens WHERE token_id = $1',
    [request.tokenId],
  );
  if (found.rowCount === 0) throw new TokenRejectedError(`token '${request.tokenId}' does not exist`);
  if (found.rows[0].revoked_at) throw new TokenRejectedError(`token '${request.tokenId}' is already revoked`);
  await platform.eventStore.append(
    ACCESS_STREAM,
    [{ type: 'access.token.revoked', payload: request }],
    { expectedVersion: 'any', producer },
  );
  await platform.projections.awaitProjected();
}

export interface TokenRow {
  token_id: string;
  name: string;
  role: Role;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export async function listTokens(platform: Platform): Promise<TokenRow[]> {
  await platform.projections.awaitProjected();
  const result = await platform.pool.query<TokenRow>(
    'SELECT token_id, name, role, created_at, created_by, expires_at, revoked_at FROM api_tokens ORDER BY created_at, token_id',
  );
  return result.rows;
}

/** Checks a bearer token: well-formed, known, secret matching (constant time), not expired, not revoked. */
export async function verifyToken(platform: Platform, bearer: string, now = new Date()): Promise<TokenIdentity> {
  const match = TOKEN.exec(bearer);
  if (!match) throw new TokenRejectedError('malformed token');
  const [, tokenId, secret] = match;
  const lookup = () =>
    platform.pool.query<{ name: string; role: Role; secret_hash: string; expires_at: string | null; revoked_at: string | null }>(
      'SELECT name, role, secret_hash, expires_at, revoked_at FROM api_tokens WHERE token_id = $1',
      [tokenId],
    );
  let found = await lookup();
  if (found.rowCount === 0) {
    // Issued moments ago by another process: give the projection processor a moment to record it.
    await platform.projections.awaitProjected(undefined, { timeoutMs: 2000, onTimeout: 'return' });
    found = await lookup();
  }
  const row = found.rows[0];
  const presented = Buffer.from(sha256Hex(secret));
  if (!row || !timingSafeEqual(presented, Buffer.from(row.secret_hash))) throw new TokenRejectedError('unknown token');
  if (row.revoked_at) throw new TokenRejectedError('token revoked');
  if (row.expires_at && new Date(row.expires_at) <= now) throw new TokenRejectedError('token expired');
  return { tokenId, name: row.name, role: row.role };
}
