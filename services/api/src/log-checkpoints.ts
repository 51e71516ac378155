import {
  defaultCheckpointFile,
  loadSigningKey,
  loadVerifyKey,
  publishLogCheckpoint,
  type LogVerifyKey,
  type PublishedCheckpoint,
} from '@recon/eventlog';
import type { Platform } from '@recon/persistence';

/**
 * Signs a checkpoint of the platform's log with the home's signing key (created on first use, or the one
 * RECON_LOG_SIGNING_KEY / RECON_LOG_SIGNING_KEY_FILE provide) into the home's checkpoint file.
 */
export function signLogCheckpoint(
  platform: Pick<Platform, 'pool' | 'home'>,
  file = defaultCheckpointFile(platform.home),
): Promise<PublishedCheckpoint> {
  return publishLogCheckpoint(platform.pool, {
    file,
    key: loadSigningKey(platform.home),
  });
}

/**
 * Signs a checkpoint once a run has ended, so the run is covered without anyone asking. A log that does not
 * extend the last signed state (or an unusable key) is reported, and leaves the run's own outcome alone.
 */
export async function signCheckpointAfterRun(platform: Pick<Platform, 'pool' | 'home'>): Promise<void> {
  try {
    await signLogCheckpoint(platform);
  } catch (error) {
    process.stderr.write(`recon: log checkpoint not signed: ${(error as Error).message}\n`);
  }
}

/** The checkpoint file and verification key an audit uses: flags first, then the environment and the home. */
export function checkpointSources(
  home: string,
  options: { checkpoints?: string; publicKey?: string },
): { file: string; key: LogVerifyKey | null } {
  return {
    file: options.checkpoints ?? defaultCheckpointFile(home),
    key: loadVerifyKey(home, { publicKeyFile: options.publicKey }),
  };
}
