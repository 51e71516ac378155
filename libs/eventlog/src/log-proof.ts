import type { Pool } from 'pg';
import { z } from 'zod';
import type { Producer } from '@recon/contracts';
import { sha256Hex } from './canonical';
import { envelopeHash, type ChainedFields } from './chain';
import { eventHashes } from './log-audit';
import {
  CheckpointError,
  checkpointSignatureValid,
  foldLogHash,
  parseCheckpoint,
  type LogCheckpoint,
} from './log-checkpoint';
import { eventLeaf, MerkleTree, verifyConsistency, verifyInclusion } from './merkle';
import { EVENT_COLUMNS, type StoredRow } from './rows';
import type { LogVerifyKey } from './signing-key';

export const INCLUSION_PROOF_FORMAT = 'recon.inclusion-proof/1';
export const CONSISTENCY_PROOF_FORMAT = 'recon.consistency-proof/1';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

const envelopeSchema = z.strictObject({
  eventId: z.string(),
  streamId: z.string(),
  position: z.number().int().positive(),
  type: z.string(),
  schemaVersion: z.number().int().positive(),
  occurredAt: z.string(),
  producer: z.strictObject({ service: z.string(), version: z.string(), instance: z.string() }),
  causationId: z.string().nullable(),
  correlationId: z.string().nullable(),
  payloadHash: sha256,
  metaHash: sha256,
  prevHash: sha256.nullable(),
});

const inclusionSchema = z.strictObject({
  format: z.literal(INCLUSION_PROOF_FORMAT),
  /** The signed checkpoint whose Merkle root the events are proven against (tree size: its log position). */
  checkpoint: z.unknown(),
  events: z.array(
    z.strictObject({
      globalPosition: z.number().int().positive(),
      /** The event's envelope hash: the leaf (RFC 9162 leaf hash of these 32 bytes) at globalPosition - 1. */
      hash: sha256,
      envelope: envelopeSchema,
      /** The payload as recorded (its sha256 is envelope.payloadHash); null for a withdrawn event. */
      payload: z.string().nullable(),
      auditPath: z.array(sha256),
    }),
  ),
});

const consistencySchema = z.strictObject({
  format: z.literal(CONSISTENCY_PROOF_FORMAT),
  from: z.unknown(),
  to: z.unknown(),
  proof: z.array(sha256),
});

export type InclusionProof = Omit<z.infer<typeof inclusionSchema>, 'checkpoint'> & {
  checkpoint: LogCheckpoint;
};
export type ConsistencyProof = Omit<z.infer<typeof consistencySchema>, 'from' | 'to'> & {
  from: LogCheckpoint;
  to: LogCheckpoint;
};

function merkleOf(checkpoint: LogCheckpoint): { root: string } {
  if (!checkpoint.log.merkle)
    throw new CheckpointError(
      `log checkpoint #${checkpoint.sequence} has no Merkle root (format ${checkpoint.format}): sign a newer one (recon audit --checkpoint)`,
    );
  return checkpoint.log.merkle;
}

/**
 * The log's Merkle tree at a checkpoint, rebuilt from the event hashes in the database: refused unless they
 * are still the ones the checkpoint signed (same count, running hash and root), so a proof is never made
 * from a log that was changed since.
 */
export async function merkleTreeAt(pool: Pool, checkpoint: LogCheckpoint): Promise<MerkleTree> {
  const { root } = merkleOf(checkpoint);
  const leaves: Buffer[] = [];
  let hash: string | null = null;
  await eventHashes(pool, 0, checkpoint.log.position, (global, eventHash) => {
    hash = foldLogHash(hash, global, eventHash);
    leaves.push(eventLeaf(eventHash));
  });
  const tree = new MerkleTree(leaves);
  if (
    tree.size !== checkpoint.log.position ||
    hash !== checkpoint.log.hash ||
    tree.root().toString('hex') !== root
  )
    throw new CheckpointError(
      `the log no longer matches log checkpoint #${checkpoint.sequence} (global position ${checkpoint.log.position}): recon audit --all names where`,
    );
  return tree;
}

/**
 * An inclusion proof of a stream's events (or of the one at `position`) in the Merkle tree a checkpoint
 * signed: each event's envelope and payload, its hash and its RFC 9162 audit path. Events appended after
 * the checkpoint are not in its tree and are left out.
 */
export async function buildInclusionProof(
  pool: Pool,
  checkpoint: LogCheckpoint,
  streamId: string,
  options: { position?: number } = {},
): Promise<InclusionProof> {
  const tree = await merkleTreeAt(pool, checkpoint);
  const { rows } = await pool.query<StoredRow>(
    `SELECT ${EVENT_COLUMNS} FROM recon_events WHERE stream_id = $1 AND global_position <= $2
      AND ($3::int IS NULL OR position = $3) ORDER BY position`,
    [streamId, checkpoint.log.position, options.position ?? null],
  );
  return {
    format: INCLUSION_PROOF_FORMAT,
    checkpoint,
    events: rows.map((row) => ({
      globalPosition: Number(row.global_position),
      hash: row.hash,
      envelope: {
        eventId: row.event_id,
        streamId: row.stream_id,
        position: row.position,
        type: row.type,
        schemaVersion: row.schema_version,
        occurredAt: row.occurred_at,
        producer: JSON.parse(row.producer) as Producer,
        causationId: row.causation_id,
        correlationId: row.correlation_id,
        payloadHash: row.payload_hash,
        metaHash: row.meta_hash,
        prevHash: row.prev_hash,
      },
      payload: row.tombstoned_by ? null : row.payload,
      auditPath: tree.inclusionProof(Number(row.global_position) - 1).map((node) => node.toString('hex')),
    })),
  };
}

/** A consistency proof that the log signed by `to` extends the one signed by `from` (RFC 9162 2.1.4). */
export async function buildConsistencyProof(
  pool: Pool,
  from: LogCheckpoint,
  to: LogCheckpoint,
): Promise<ConsistencyProof> {
  merkleOf(from);
  if (from.log.position < 1 || from.log.position > to.log.position)
    throw new CheckpointError(
      `no consistency proof from checkpoint #${from.sequence} (size ${from.log.position}) to #${to.sequence} (size ${to.log.position})`,
    );
  const tree = await merkleTreeAt(pool, to);
  return {
    format: CONSISTENCY_PROOF_FORMAT,
    from,
    to,
    proof: tree.consistencyProof(from.log.position).map((node) => node.toString('hex')),
  };
}

export interface ProofVerification {
  ok: boolean;
  kind: 'inclusion' | 'consistency';
  /** What was proven, in words (one line per event, or the two checkpoints). */
  verified: string[];
  /** The first check that failed, naming the event or checkpoint. */
  problem: string | null;
}

function signedCheckpoint(
  json: unknown,
  where: string,
  key: Pick<LogVerifyKey, 'publicKey' | 'keyId'>,
): LogCheckpoint {
  const checkpoint = parseCheckpoint(json, where);
  if (checkpoint.keyId !== key.keyId)
    throw new CheckpointError(
      `${where}: signed by key ${checkpoint.keyId}, not by the verification key ${key.keyId}`,
    );
  if (!checkpointSignatureValid(checkpoint, key))
    throw new CheckpointError(
      `${where}: the signature of checkpoint #${checkpoint.sequence} does not verify`,
    );
  return checkpoint;
}

function parseProof<T extends z.ZodType>(schema: T, json: unknown, source: string): z.infer<T> {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new CheckpointError(
    `${source}: not a proof: ${issue.path.join('.') || '(document)'}: ${issue.message}`,
  );
}

/**
 * Verifies a proof document with the public key alone (no database): the checkpoint signatures, then for an
 * inclusion proof each event's payload hash, envelope hash, link to the previous event of the proof and
 * audit path to the signed root; for a consistency proof, that the later signed tree extends the earlier.
 * A malformed document or a checkpoint that does not verify throws CheckpointError; a proof that does not
 * hold is `ok: false` with the first failed check.
 */
export function verifyProof(
  json: unknown,
  key: Pick<LogVerifyKey, 'publicKey' | 'keyId'>,
  source = 'proof',
): ProofVerification {
  const format = (json as { format?: unknown } | null)?.format;
  if (format === CONSISTENCY_PROOF_FORMAT) return verifyConsistencyDocument(json, key, source);
  if (format !== INCLUSION_PROOF_FORMAT)
    throw new CheckpointError(
      `${source}: not a proof: format: expected ${INCLUSION_PROOF_FORMAT} or ${CONSISTENCY_PROOF_FORMAT}, got ${JSON.stringify(format)}`,
    );
  const proof = parseProof(inclusionSchema, json, source);
  const checkpoint = signedCheckpoint(proof.checkpoint, `${source}: checkpoint`, key);
  const { root } = merkleOf(checkpoint);
  const size = checkpoint.log.position;
  const verified: string[] = [];
  const result = (problem: string | null): ProofVerification => ({
    ok: problem === null,
    kind: 'inclusion',
    verified,
    problem,
  });
  let previous: InclusionProof['events'][number] | null = null;
  for (const event of proof.events) {
    const name = `event ${event.envelope.eventId} (stream '${event.envelope.streamId}' position ${event.envelope.position}, global position ${event.globalPosition})`;
    if (event.payload !== null && sha256Hex(event.payload) !== event.envelope.payloadHash)
      return result(`${name}: its payload does not hash to its payloadHash ${event.envelope.payloadHash}`);
    const hash = envelopeHash(event.envelope as ChainedFields);
    if (hash !== event.hash) return result(`${name}: its envelope hashes to ${hash}, not to ${event.hash}`);
    if (
      previous &&
      previous.envelope.streamId === event.envelope.streamId &&
      previous.envelope.position + 1 === event.envelope.position &&
      event.envelope.prevHash !== previous.hash
    )
      return result(
        `${name}: its prevHash ${event.envelope.prevHash} is not the hash of the event before it`,
      );
    const path = event.auditPath.map((node) => Buffer.from(node, 'hex'));
    if (
      !verifyInclusion(eventLeaf(event.hash), event.globalPosition - 1, size, path, Buffer.from(root, 'hex'))
    )
      return result(
        `${name}: its audit path does not lead to the Merkle root ${root} of log checkpoint #${checkpoint.sequence} (size ${size})`,
      );
    verified.push(
      `${name}: ${event.envelope.type}, in log checkpoint #${checkpoint.sequence} of ${checkpoint.signedAt}`,
    );
    previous = event;
  }
  return result(null);
}

function verifyConsistencyDocument(
  json: unknown,
  key: Pick<LogVerifyKey, 'publicKey' | 'keyId'>,
  source: string,
): ProofVerification {
  const proof = parseProof(consistencySchema, json, source);
  const from = signedCheckpoint(proof.from, `${source}: from`, key);
  const to = signedCheckpoint(proof.to, `${source}: to`, key);
  const result = (problem: string | null): ProofVerification => ({
    ok: problem === null,
    kind: 'consistency',
    verified:
      problem === null
        ? [
            `log checkpoint #${to.sequence} of ${to.signedAt} (size ${to.log.position}) extends #${from.sequence} of ${from.signedAt} (size ${from.log.position})`,
          ]
        : [],
    problem,
  });
  if (from.database !== to.database)
    return result(`the checkpoints sign two databases: ${from.database} and ${to.database}`);
  const ok = verifyConsistency(
    from.log.position,
    to.log.position,
    Buffer.from(merkleOf(from).root, 'hex'),
    Buffer.from(merkleOf(to).root, 'hex'),
    proof.proof.map((node) => Buffer.from(node, 'hex')),
  );
  return result(
    ok
      ? null
      : `the log signed by checkpoint #${to.sequence} (size ${to.log.position}) is not proven to extend the one signed by #${from.sequence} (size ${from.log.position})`,
  );
}
