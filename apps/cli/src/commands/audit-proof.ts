import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import {
  buildConsistencyProof,
  buildInclusionProof,
  CheckpointError,
  loadVerifyKey,
  SigningKeyError,
  verifyProof,
  type LogCheckpoint,
  type SignedLog,
} from '@recon/eventlog';
import { reconHome, type Platform } from '@recon/persistence';
import { checkpointSources, readSignedLog } from '@recon/audit';
import { CliFailure, withPlatform } from '../context';
import { printJsonOr } from '../output';

interface ProofOptions {
  event?: string;
  against?: string;
  consistency?: string;
  out?: string;
  checkpoints?: string;
  publicKey?: string;
}

const positiveInteger = (flag: string, value: string): number => {
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1)
    throw new CliFailure(`${flag} ${value}: expected a positive integer`, 2);
  return Number(value);
};

function rethrowAsFailure(error: unknown): never {
  if (error instanceof CheckpointError || error instanceof SigningKeyError)
    throw new CliFailure(error.message);
  throw error;
}

/** The kept checkpoint of that sequence, or the latest one (which must exist). */
function checkpointOf(signed: SignedLog, sequence: number | undefined, flag: string): LogCheckpoint {
  if (sequence === undefined) {
    if (!signed.latest)
      throw new CliFailure(
        `no log checkpoint of this database in ${signed.file} (recon audit --checkpoint signs one)`,
      );
    return signed.latest;
  }
  const checkpoint = signed.checkpoints[sequence - 1];
  if (!checkpoint)
    throw new CliFailure(
      `${flag} ${sequence}: ${signed.file} has checkpoints #1 to #${signed.checkpoints.length}`,
      2,
    );
  return checkpoint;
}

/** `recon audit proof`: an inclusion proof of a run's events, or a consistency proof of two checkpoints. */
export function auditProofCommand(): Command {
  return new Command('proof')
    .description(
      "write an RFC 9162 Merkle proof as JSON: a run's events (or one) are in a signed checkpoint's tree, or (--consistency) a later checkpoint's log extends an earlier one's",
    )
    .argument('[run]', 'run id (inclusion proof)')
    .option('--event <position>', "only the run's event at this stream position")
    .option('--against <sequence>', 'the checkpoint to prove against (default: the latest kept)')
    .option(
      '--consistency <from[..to]>',
      'prove checkpoint <to> (default: the latest) extends checkpoint <from>',
    )
    .option('--out <file>', 'write the proof to this file instead of stdout')
    .option('--checkpoints <file>', 'the log checkpoints (default: $RECON_HOME/log-checkpoints.jsonl)')
    .option('--public-key <file>', 'the PEM public key that verifies them (default: the home key pair)')
    .action(async (runId: string | undefined, _options: ProofOptions, command: Command) => {
      // --out, --checkpoints and --public-key are audit's options too: commander gives them to audit.
      const options = command.optsWithGlobals<ProofOptions>();
      if ((runId === undefined) === (options.consistency === undefined))
        throw new CliFailure('audit proof: name a run, or pass --consistency <from[..to]> (one of them)', 2);
      if (options.consistency !== undefined && (options.event || options.against))
        throw new CliFailure('audit proof --consistency: --event and --against prove a run; drop them', 2);
      const event = options.event === undefined ? undefined : positiveInteger('--event', options.event);
      const against =
        options.against === undefined ? undefined : positiveInteger('--against', options.against);
      const range = options.consistency === undefined ? undefined : consistencyRange(options.consistency);
      await withPlatform(async (platform) => {
        try {
          const proof = range
            ? await consistencyProof(platform, range, options)
            : await inclusionProof(platform, runId as string, { event, against }, options);
          const text = `${JSON.stringify(proof, null, 2)}\n`;
          if (options.out) {
            writeFileSync(options.out, text);
            process.stdout.write(`wrote ${options.out}\n`);
          } else process.stdout.write(text);
        } catch (error) {
          rethrowAsFailure(error);
        }
      });
    });
}

function consistencyRange(value: string): { from: number; to?: number } {
  const match = /^(\d{1,15})(?:\.\.(\d{1,15}))?$/.exec(value);
  if (!match || Number(match[1]) < 1 || (match[2] !== undefined && Number(match[2]) < Number(match[1])))
    throw new CliFailure(
      `--consistency ${value}: expected <from> or <from>..<to>, checkpoint sequences with from <= to`,
      2,
    );
  return { from: Number(match[1]), to: match[2] === undefined ? undefined : Number(match[2]) };
}

async function inclusionProof(
  platform: Platform,
  runId: string,
  which: { event?: number; against?: number },
  options: ProofOptions,
) {
  const signed = await readSignedLog(platform, checkpointSources(platform.home, options));
  const checkpoint = checkpointOf(signed, which.against, '--against');
  const proof = await buildInclusionProof(platform.pool, checkpoint, runId, { position: which.event });
  if (proof.events.length === 0)
    throw new CliFailure(
      which.event !== undefined
        ? `run '${runId}' has no event at position ${which.event} in log checkpoint #${checkpoint.sequence}`
        : `run '${runId}' has no events in log checkpoint #${checkpoint.sequence} (signed ${checkpoint.signedAt}; recon audit --checkpoint signs a newer one)`,
    );
  return proof;
}

async function consistencyProof(
  platform: Platform,
  range: { from: number; to?: number },
  options: ProofOptions,
) {
  const signed = await readSignedLog(platform, checkpointSources(platform.home, options));
  const from = checkpointOf(signed, range.from, '--consistency');
  const to = checkpointOf(signed, range.to, '--consistency');
  return buildConsistencyProof(platform.pool, from, to);
}

/** `recon audit verify-proof`: checks a proof with the public key alone, without the database. */
export function auditVerifyProofCommand(): Command {
  return new Command('verify-proof')
    .description('check a proof written by `recon audit proof` with the public key alone (no database)')
    .argument('<proof>', 'the proof (JSON file)')
    .option('--public-key <file>', 'the PEM public key of the checkpoints (default: the home key pair)')
    .option('--json', 'print JSON')
    .action((file: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ publicKey?: string; json?: boolean }>();
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new CliFailure(
          `${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        );
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new CliFailure(`${file}: not JSON (${(error as Error).message})`);
      }
      try {
        const key = loadVerifyKey(reconHome(), { publicKeyFile: options.publicKey });
        if (!key) throw new CliFailure('audit verify-proof: no public key: pass --public-key <file>', 2);
        const result = verifyProof(json, key, file);
        printJsonOr(
          result,
          () =>
            result.ok
              ? [
                  `proof verified (${result.kind}, key ${key.keyId}):`,
                  ...result.verified.map((line) => `  ${line}`),
                ].join('\n')
              : `proof FAILED (${result.kind}): ${result.problem}`,
          options,
        );
        if (!result.ok) process.exitCode = 1;
      } catch (error) {
        rethrowAsFailure(error);
      }
    });
}
