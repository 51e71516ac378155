import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BlobNotFoundError, FileBlobStore } from '@recon/eventlog';
import { AdamW, decodeCheckpoint, trainTokenizer, TransformerPolicy } from '@recon/policy';
import {
  loadPolicyCheckpoint,
  loadTokenizer,
  PolicyCache,
  savePolicyCheckpoint,
  saveTokenizer,
} from './policy-checkpoints';

const tokenizer = trainTokenizer({
  corpus: ['Alice and Bob choose A or B.', '\\boxed{Yes} or \\boxed{No}'],
  vocabSize: 280,
});
const modelConfig = (seed: number, dModel = 16) => ({
  vocabSize: tokenizer.vocabSize,
  dModel,
  layers: 1,
  heads: 2,
  context: 32,
  mlpRatio: 2,
  tieEmbeddings: true,
  seed,
});
const values = (model: TransformerPolicy) =>
  Object.fromEntries([...model.namedWeights()].map(([name, w]) => [name, Array.from(w.dataSync())]));

describe('policy checkpoints', () => {
  let root: string;
  let blobs: FileBlobStore;
  let tokenizerHash: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    root = mkdtempSync(join(tmpdir(), 'policy-checkpoints-'));
    blobs = new FileBlobStore(root);
    tokenizerHash = await saveTokenizer(blobs, tokenizer);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('loads a checkpoint it has just saved exactly as its blob decodes, optimiser state included', async () => {
    const model = new TransformerPolicy(modelConfig(1));
    const optimizer = new AdamW(model.trainableWeights(), {});
    const trainer = { step: 2, optimizer: { ...optimizer.getState(), step: 2 } };
    const saved = await savePolicyCheckpoint(blobs, model, { tokenizerHash, backend: 'cpu', trainer });
    const loaded = await loadPolicyCheckpoint(blobs, saved.checkpointHash);
    const decoded = decodeCheckpoint(await blobs.get(saved.checkpointHash), saved.checkpointHash);
    expect(values(loaded.model)).toEqual(values(model));
    expect(loaded.trainer.step).toBe(2);
    expect(loaded.trainer.optimizer.step).toBe(decoded.trainer.optimizer.step);
    expect(Object.keys(loaded.trainer.optimizer.moments).sort()).toEqual(
      Object.keys(decoded.trainer.optimizer.moments).sort(),
    );
    expect(loaded.config).toEqual(decoded.config);
    expect(loaded.tokenizer.contentHash).toBe(tokenizerHash);
    // The trainer's state goes on changing; the checkpoint it was saved at does not.
    model
      .namedWeights()
      .get('tok_embed.weight')!
      .assign(tf.zerosLike(model.namedWeights().get('tok_embed.weight')!));
    expect(values((await loadPolicyCheckpoint(blobs, saved.checkpointHash)).model)).toEqual(
      values(loaded.model),
    );
    model.dispose();
    optimizer.dispose();
  });

  it('never serves from memory a checkpoint or tokenizer whose blob is gone', async () => {
    const model = new TransformerPolicy(modelConfig(2));
    const saved = await savePolicyCheckpoint(blobs, model, { tokenizerHash, backend: 'cpu' });
    model.dispose();
    await blobs.delete(saved.checkpointHash);
    await expect(loadPolicyCheckpoint(blobs, saved.checkpointHash)).rejects.toBeInstanceOf(BlobNotFoundError);
    const other = new FileBlobStore(mkdtempSync(join(root, 'other-')));
    await expect(loadTokenizer(other, tokenizerHash)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('writes a new checkpoint of the same model into the model a recycling cache evicts', async () => {
    // Two checkpoints of one model (same config), as GRPO steps save: different weights.
    const first = new TransformerPolicy(modelConfig(3));
    const second = new TransformerPolicy(modelConfig(3));
    for (const w of second.namedWeights().values()) w.assign(tf.tidy(() => tf.add(w, 1)));
    const a = await savePolicyCheckpoint(blobs, first, { tokenizerHash, backend: 'cpu' });
    const b = await savePolicyCheckpoint(blobs, second, { tokenizerHash, backend: 'cpu' });
    const cache = new PolicyCache(blobs, 1, { recycle: true });
    const held = (await cache.get(a.checkpointHash)).model;
    expect(values(held)).toEqual(values(first));
    const next = (await cache.get(b.checkpointHash)).model;
    expect(next).toBe(held);
    expect(values(next)).toEqual(values(second));
    // Another shape of model is built anew (the evicted one is disposed).
    const wider = new TransformerPolicy(modelConfig(5, 32));
    const c = await savePolicyCheckpoint(blobs, wider, { tokenizerHash, backend: 'cpu' });
    const rebuilt = (await cache.get(c.checkpointHash)).model;
    expect(rebuilt).not.toBe(held);
    expect(values(rebuilt)).toEqual(values(wider));
    cache.clear();
    for (const m of [first, second, wider]) m.dispose();
  });
});
