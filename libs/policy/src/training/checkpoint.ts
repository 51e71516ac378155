import * as tf from '@tensorflow/tfjs-core';
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AdamWState } from './optimizer';
import { TrainerState } from './trainer-state';

/**
 * Checkpoint blob, format "recon-checkpoint" version 1 (all integers little-endian):
 *   bytes 0..7   ASCII magic "RECONCKP"
 *   bytes 8..11  uint32 header length H
 *   bytes 12..   H bytes of UTF-8 RFC 8785 canonical JSON header:
 *                { format, version, config, tokenizerHash, trainer: { step, rng, dataPosition, optimizerStep },
 *                  tensors: [{ name, role: "weight"|"adam_m"|"adam_v", dtype: "float32", shape, offset, length }] }
 *   then the payload: each tensor's float32 values back to back, at `offset` (bytes from payload start)
 * Tensors are sorted by (role, name), so the same state always gives the same bytes; the content
 * hash is the sha256 hex of the whole blob.
 */
const MAGIC = 'RECONCKP';
const FORMAT = 'recon-checkpoint';
const VERSION = 1;

export interface CheckpointContent {
  /** Model and run configuration (JSON). */
  config: unknown;
  tokenizerHash: string;
  weights: ReadonlyMap<string, tf.Tensor>;
  trainer: TrainerState;
}

export interface DecodedCheckpoint {
  config: unknown;
  tokenizerHash: string;
  weights: Map<string, { shape: number[]; values: Float32Array }>;
  trainer: TrainerState;
}

const tensorEntrySchema = z.object({
  name: z.string().min(1),
  role: z.enum(['weight', 'adam_m', 'adam_v']),
  dtype: z.literal('float32'),
  shape: z.array(z.number().int().min(0)),
  offset: z.number().int().min(0),
  length: z.number().int().min(0),
});
const rngSchema = z.object({ algorithm: z.literal('mulberry32'), state: z.number().int().min(0) });
const headerSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  config: z.unknown(),
  tokenizerHash: z.string(),
  trainer: z.object({
    step: z.number().int().min(0),
    optimizerStep: z.number().int().min(0),
    rng: rngSchema.optional(),
    dataPosition: z
      .object({ epoch: z.number().int().min(0), index: z.number().int().min(0), epochRng: rngSchema })
      .optional(),
  }),
  tensors: z.array(tensorEntrySchema),
});

export function checkpointHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function encodeCheckpoint(content: CheckpointContent): { bytes: Uint8Array; hash: string } {
  type Entry = z.infer<typeof tensorEntrySchema> & { values: Float32Array };
  const entries: Entry[] = [];
  const push = (role: Entry['role'], name: string, shape: number[], values: Float32Array) =>
    entries.push({ name, role, dtype: 'float32', shape, offset: 0, length: values.length * 4, values });
  for (const [name, t] of content.weights) {
    if (t.dtype !== 'float32')
      throw new Error(`encodeCheckpoint: weight "${name}" is ${t.dtype}, only float32 is stored`);
    push('weight', name, [...t.shape], t.dataSync() as Float32Array);
  }
  const optimizer: AdamWState = content.trainer.optimizer;
  for (const [name, { shape, m, v }] of Object.entries(optimizer.moments)) {
    push('adam_m', name, shape, m);
    push('adam_v', name, shape, v);
  }
  entries.sort((a, b) =>
    a.role === b.role ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.role < b.role ? -1 : 1,
  );
  let offset = 0;
  for (const e of entries) {
    e.offset = offset;
    offset += e.length;
  }
  const header = {
    format: FORMAT,
    version: VERSION,
    config: content.config,
    tokenizerHash: content.tokenizerHash,
    trainer: {
      step: content.trainer.step,
      optimizerStep: optimizer.step,
      ...(content.trainer.rng ? { rng: content.trainer.rng } : {}),
      ...(content.trainer.dataPosition ? { dataPosition: content.trainer.dataPosition } : {}),
    },
    tensors: entries.map(({ values: _values, ...rest }) => rest),
  };
  const headerJson = canonicalize(header);
  if (headerJson === undefined) throw new Error('encodeCheckpoint: header is not JSON-serialisable');
  const headerBytes = Buffer.from(headerJson, 'utf8');
  const bytes = new Uint8Array(12 + headerBytes.length + offset);
  bytes.set(Buffer.from(MAGIC, 'ascii'), 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, headerBytes.length, true);
  bytes.set(headerBytes, 12);
  const payloadStart = 12 + headerBytes.length;
  for (const e of entries) {
    for (let i = 0; i < e.values.length; i++)
      view.setFloat32(payloadStart + e.offset + i * 4, e.values[i], true);
  }
  return { bytes, hash: checkpointHash(bytes) };
}

export function decodeCheckpoint(bytes: Uint8Array, expectedHash?: string): DecodedCheckpoint {
  if (expectedHash !== undefined) {
    const actual = checkpointHash(bytes);
    if (actual !== expectedHash)
      throw new Error(`decodeCheckpoint: content hash ${actual} != expected ${expectedHash}`);
  }
  if (bytes.length < 12 || Buffer.from(bytes.subarray(0, 8)).toString('ascii') !== MAGIC) {
    throw new Error('decodeCheckpoint: not a Recon checkpoint (bad magic bytes 0..7)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length)
    throw new Error(`decodeCheckpoint: header length ${headerLength} exceeds blob`);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes.subarray(12, 12 + headerLength)).toString('utf8'));
  } catch (error) {
    throw new Error(`decodeCheckpoint: header is not JSON: ${(error as Error).message}`);
  }
  const parsed = headerSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`decodeCheckpoint: header field ${issue.path.join('.')}: ${issue.message}`);
  }
  const header = parsed.data;
  const payloadStart = 12 + headerLength;
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  const moments: AdamWState['moments'] = {};
  for (const e of header.tensors) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (e.length !== count * 4)
      throw new Error(`decodeCheckpoint: tensor ${e.role}/${e.name} length ${e.length} != 4*${count}`);
    const start = payloadStart + e.offset;
    if (start + e.length > bytes.length)
      throw new Error(`decodeCheckpoint: tensor ${e.role}/${e.name} runs past the blob`);
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = view.getFloat32(start + i * 4, true);
    if (e.role === 'weight') weights.set(e.name, { shape: e.shape, values });
    else {
      const slot = (moments[e.name] ??= { shape: e.shape, m: new Float32Array(0), v: new Float32Array(0) });
      if (e.role === 'adam_m') slot.m = values;
      else slot.v = values;
    }
  }
  return {
    config: header.config,
    tokenizerHash: header.tokenizerHash,
    weights,
    trainer: {
      step: header.trainer.step,
      optimizer: { step: header.trainer.optimizerStep, moments },
      rng: header.trainer.rng,
      dataPosition: header.trainer.dataPosition,
    },
  };
}

/** Writes checkpointed weights into a model's variables; every stored and every model weight must match. */
export function loadWeights(
  target: ReadonlyMap<string, tf.Variable>,
  stored: DecodedCheckpoint['weights'],
): void {
  for (const name of target.keys()) {
    if (!stored.has(name)) throw new Error(`loadWeights: checkpoint has no weight "${name}"`);
  }
  for (const [name, { shape, values }] of stored) {
    const variable = target.get(name);
    if (!variable) throw new Error(`loadWeights: model has no weight "${name}"`);
    if (variable.shape.join(',') !== shape.join(',')) {
      throw new Error(
        `loadWeights: "${name}" is [${shape}] in the checkpoint, [${variable.shape}] in the model`,
      );
    }
    // The variable keeps the data; the tidy frees the tensor it was made from.
    tf.tidy(() => variable.assign(tf.tensor(values, shape, 'float32')));
  }
}

/** sha256 over the weights' names, shapes and float32 bytes in name order: "same weights" test. */
export function weightsHash(weights: ReadonlyMap<string, tf.Tensor>): string {
  const hash = createHash('sha256');
  for (const name of [...weights.keys()].sort()) {
    const t = weights.get(name) as tf.Tensor;
    hash.update(`${name}:${t.shape.join('x')};`);
    hash.update(Buffer.from((t.dataSync() as Float32Array).slice().buffer));
  }
  return hash.digest('hex');
}
