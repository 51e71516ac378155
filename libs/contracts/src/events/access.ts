import { z } from 'zod';
import { defineEvent } from '../define-event';
import { sha256Hex } from '../common';

export const accessRole = z.enum(['viewer', 'operator', 'admin']);

/** The stream holding access-control facts (tokens), apart from any run. */
export const ACCESS_STREAM = 'access';

export const AccessTokenCreated = defineEvent({
  type: 'access.token.created',
  version: 1,
  owner: 'api',
  description: 'An API token was issued; only the sha256 of its secret is recorded.',
  payload: z.strictObject({
    tokenId: z.string().regex(/^[a-f0-9]{16}$/),
    name: z.string().min(1).max(200),
    role: accessRole,
    secretHash: sha256Hex,
    expiresAt: z.iso.datetime().nullable(),
    actor: z.string().min(1),
  }),
});

export const AccessTokenRevoked = defineEvent({
  type: 'access.token.revoked',
  version: 1,
  owner: 'api',
  description: 'An API token was revoked; requests carrying it are refused from then on.',
  payload: z.strictObject({
    tokenId: z.string().regex(/^[a-f0-9]{16}$/),
    reason: z.string().min(1).max(500),
    actor: z.string().min(1),
  }),
});

export const accessEvents = [AccessTokenCreated, AccessTokenRevoked] as const;
