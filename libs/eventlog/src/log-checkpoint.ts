import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { sign, verify } from 'node:crypto';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical';
import { frontierLength } from './merkle';
import type { SignedHead } from './audit';
import type { LogSigningKey, LogVerifyKey } from './signing-key';

/** Checkpoints before the Merkle tree: still read and verified, never written any more. */
export const CHECKPOINT_FORMAT_V1 = 'recon.log-checkpoint/1';
/** Adds `log.merkle`: the RFC 9162 root over every event hash of the log, and the frontier to extend it. */
export const CHECKPOINT_FORMAT = 'recon.log-checkpoint/2';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const head = z.strictObject({ version: z.number().int().positive(), hash: sha256 });

/**
 * A signed checkpoint of the log, one JSON line of the checkpoint file. It signs the head of the whole log
 * (`log`: its global position, the running hash over every event hash in global order and, from format 2
 * on, the RFC 9162 Merkle root over the same hashes with the frontier that extends it) and the heads of
 * the streams that changed since the previous checkpoint of the same database, which it names by digest, so
 * the checkpoints of a database form a chain: none can be removed or reordered unnoticed.
 */
const checkpointSchema = z
  .strictObject({
    format: z.enum([CHECKPOINT_FORMAT_V1, CHECKPOINT_FORMAT]),
    /** The PostgreSQL database whose log this is (cluster system identifier, database oid and name). */
    database: z.string().min(1),
    sequence: z.number().int().positive(),
    previous: sha256.nullable(),
    signedAt: z.string().min(1),
    log: z.strictObject({
      position: z.number().int().nonnegative(),
      hash: sha256.nullable(),
      /** The tree's size is `position` (leaf i is the event at global position i + 1). */
      merkle: z.strictObject({ root: sha256, frontier: z.array(sha256) }).optional(),
    }),
    streams: z.record(z.string(), head),
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
    signature: z.string().min(1),
  })
  .superRefine((checkpoint, ctx) => {
    const { merkle, position } = checkpoint.log;
    if (checkpoint.format === CHECKPOINT_FORMAT_V1 && merkle)
      ctx.addIssue({
        code: 'custom',
        path: ['log', 'merkle'],
        message: `not part of ${CHECKPOINT_FORMAT_V1}`,
      });
    if (checkpoint.format === CHECKPOINT_FORMAT && !merkle)
      ctx.addIssue({ code: 'custom', path: ['log', 'merkle'], message: `required by ${CHECKPOINT_FORMAT}` });
    if (merkle && merkle.frontier.length !== frontierLength(position))
      ctx.addIssue({
        code: 'custom',
        path: ['log', 'merkle', 'frontier'],
        message: `a tree of ${position} leaves has ${frontierLength(position)} frontier node(s), not ${merkle.frontier.length}`,
      });
  });

export type LogCheckpoint = z.infer<typeof checkpointSchema>;
export type UnsignedCheckpoint = Omit<LogCheckpoint, 'signature' | 'keyId'>;

/** A checkpoint file that cannot be trusted: malformed, a bad signature, or a broken chain (names the line). */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** Where checkpoints are kept by default: `<home>/log-checkpoints.jsonl` (RECON_LOG_CHECKPOINTS overrides). */
export function defaultCheckpointFile(home: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.RECON_LOG_CHECKPOINTS ?? join(home, 'log-checkpoints.jsonl');
}

/** Parses one checkpoint (a line of the file, or of a proof), naming the first problem. */
export function parseCheckpoint(json: unknown, where: string): LogCheckpoint {
  const parsed = checkpointSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new CheckpointError(
    `${where}: not a log checkpoint: ${issue.path.join('.') || '(line)'}: ${issue.message}`,
  );
}

/** The bytes a checkpoint's signature covers: the canonical JSON of everything but the signature. */
function signedBytes(body: Omit<LogCheckpoint, 'signature'>): Buffer {
  return Buffer.from(canonicalJson(body), 'utf8');
}

export function signCheckpoint(body: UnsignedCheckpoint, key: LogSigningKey): LogCheckpoint {
  const withKey = { ...body, keyId: key.keyId };
  return { ...withKey, signature: sign(null, signedBytes(withKey), key.privateKey).toString('base64') };
}

export function checkpointSignatureValid(
  checkpoint: LogCheckpoint,
  key: Pick<LogVerifyKey, 'publicKey'>,
): boolean {
  const { signature, ...body } = checkpoint;
  return verify(null, signedBytes(body), key.publicKey, Buffer.from(signature, 'base64'));
}

/** What the next checkpoint names as its predecessor. */
export function checkpointDigest(checkpoint: LogCheckpoint): string {
  return sha256Hex(canonicalJson(checkpoint));
}

/** The signed state of one database's log, folded from its verified checkpoints. */
export interface SignedLog {
  /** Where the checkpoints were read: a file, or a Kafka topic. */
  file: string;
  database: string;
  checkpoints: LogCheckpoint[];
  latest: LogCheckpoint | null;
  /** Every signed head of each stream, ascending by version. */
  streams: Map<string, SignedHead[]>;
}

/** One published checkpoint line and where it was read (a file's line, a Kafka message), for messages. */
export interface CheckpointLine {
  text: string;
  where: string;
}

/**
 * Reads the checkpoints of `database` from a checkpoint file (lines of other databases are skipped) and
 * verifies each: its signature with `key`, its sequence and its link to the previous one. A missing file
 * is an empty signed state.
 */
export function readLogCheckpoints(
  file: string,
  database: string,
  key: Pick<LogVerifyKey, 'publicKey' | 'keyId'> | null,
): SignedLog {
  if (!existsSync(file)) return verifyLogCheckpoints(file, [], database, key);
  const text = readFileSync(file, 'utf8');
  // Each checkpoint is one write ending in a newline: text after the last newline is one being written.
  const lines = text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .map((line, index) => ({ text: line, where: `${file}:${index + 1}` }));
  return verifyLogCheckpoints(file, lines, database, key);
}

/**
 * Verifies the checkpoint lines of `database` from any source (`source` names it: a file, a Kafka topic),
 * in the order published: each line's signature with `key`, its sequence and its link to the previous one.
 * A line equal to the checkpoint already accepted at its sequence is a redelivery (a topic is written at
 * least once) and is skipped; any other line out of sequence is a removed, reordered or forked checkpoint.
 */
export function verifyLogCheckpoints(
  source: string,
  lines: readonly CheckpointLine[],
  database: string,
  key: Pick<LogVerifyKey, 'publicKey' | 'keyId'> | null,
): SignedLog {
  const signed: SignedLog = { file: source, database, checkpoints: [], latest: null, streams: new Map() };
  for (const { text, where } of lines) {
    if (text.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new CheckpointError(`${where}: not JSON (${(error as Error).message})`);
    }
    if ((json as { database?: unknown })?.database !== database) continue;
    const checkpoint = parseCheckpoint(json, where);
    if (!key)
      throw new CheckpointError(`${where}: no public key to verify the checkpoints with (--public-key)`);
    if (checkpoint.keyId !== key.keyId)
      throw new CheckpointError(
        `${where}: signed by key ${checkpoint.keyId}, not by the verification key ${key.keyId}`,
      );
    if (!checkpointSignatureValid(checkpoint, key))
      throw new CheckpointError(
        `${where}: the signature of checkpoint #${checkpoint.sequence} does not verify`,
      );
    const accepted = signed.checkpoints[checkpoint.sequence - 1];
    if (accepted && checkpointDigest(accepted) === checkpointDigest(checkpoint)) continue;
    const previous = signed.latest;
    const expectedSequence = (previous?.sequence ?? 0) + 1;
    const expectedLink = previous ? checkpointDigest(previous) : null;
    if (checkpoint.sequence !== expectedSequence || checkpoint.previous !== expectedLink)
      throw new CheckpointError(
        `${where}: checkpoint #${checkpoint.sequence} does not follow #${previous?.sequence ?? 0} (a checkpoint was removed, reordered or forked)`,
      );
    if (previous && checkpoint.log.position < previous.log.position)
      throw new CheckpointError(
        `${where}: checkpoint #${checkpoint.sequence} signs a log shorter than #${previous.sequence}`,
      );
    signed.checkpoints.push(checkpoint);
    signed.latest = checkpoint;
    for (const [streamId, streamHead] of Object.entries(checkpoint.streams)) {
      const heads = signed.streams.get(streamId) ?? [];
      heads.push({ ...streamHead, sequence: checkpoint.sequence, signedAt: checkpoint.signedAt });
      signed.streams.set(streamId, heads);
    }
  }
  return signed;
}

/** Appends a checkpoint as one line (a single write in append mode: concurrent writers never interleave). */
export function appendCheckpoint(file: string, checkpoint: LogCheckpoint): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(checkpoint)}\n`, { mode: 0o644 });
}

/** The running hash of the whole log: each event's hash folded in, in global order. */
export function foldLogHash(previous: string | null, globalPosition: number, eventHash: string): string {
  return sha256Hex(`${previous ?? ''}:${globalPosition}:${eventHash}`);
}
