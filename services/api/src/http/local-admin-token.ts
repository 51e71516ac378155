import { lstatSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Producer } from '@recon/contracts';
import type { Platform } from '@recon/persistence';
import { issueToken, revokeToken, TokenRejectedError, verifyToken } from '@recon/service-kit';

/** The admin-token file cannot be used (not a regular file); the message names the file and what to do. */
export class LocalAdminTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalAdminTokenError';
  }
}

export interface LocalAdminToken {
  file: string;
  /** What was done to an existing file, when anything was (e.g. a token readable by others replaced). */
  note?: string;
}

const mode = (bits: number) => `0${(bits & 0o777).toString(8)}`;

/** Writes the secret to a new file of mode 0600 and moves it over `file`, so no other mode survives. */
function writePrivately(file: string, token: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, `${token}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, file);
}

/**
 * Single-user embedded mode: a local admin token kept in `file` (mode 0600), created on first use and reused
 * while it is valid. A token whose file other users could read (group or other permission bits) is treated as
 * disclosed: it is revoked and a new one written with mode 0600.
 */
export async function ensureLocalAdminToken(
  platform: Platform,
  file: string,
  producer: Producer,
): Promise<LocalAdminToken> {
  let note: string | undefined;
  const existing = lstatSync(file, { throwIfNoEntry: false });
  if (existing && !existing.isFile())
    throw new LocalAdminTokenError(
      `${file} is not a regular file: remove it so a local admin token can be written`,
    );
  if (existing) {
    const token = readFileSync(file, 'utf8').trim();
    const identity = await verifyToken(platform, token).catch((error: unknown) => {
      // revoked or unknown (e.g. a new database): a new one is issued
      if (error instanceof TokenRejectedError) return null;
      throw error;
    });
    const readableByOthers = (existing.mode & 0o077) !== 0;
    if (identity && !readableByOthers) return { file };
    if (identity) {
      await revokeToken(
        platform,
        {
          tokenId: identity.tokenId,
          reason: `its file ${file} was readable by other users (mode ${mode(existing.mode)})`,
          actor: 'embedded',
        },
        producer,
      );
      note = `${file} was readable by other users (mode ${mode(existing.mode)}): its token is revoked and a new one written with mode 0600`;
    } else if (readableByOthers) {
      note = `${file} had mode ${mode(existing.mode)}: rewritten with mode 0600`;
    }
  }
  const issued = await issueToken(
    platform,
    { name: 'local admin', role: 'admin', expiresInMs: null, actor: 'embedded' },
    producer,
  );
  writePrivately(file, issued.token);
  return note ? { file, note } : { file };
}
