import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BlobStore, EventStore } from '@recon/eventlog';
import { TransformerPolicy, trainTokenizer } from '@recon/policy';
import { savePolicyCheckpoint, saveTokenizer } from '@recon/policy-runtime';
import { TEST_PRODUCER } from './synthetic-run';

const CORPUS = [
  'Alice and Bob choose A or B. The answer is \\boxed{A}.',
  '<think>Compare payoffs: 3 beats 1, so defect.</think>\\boxed{Yes}',
  'Move: e3. Bid 5. Call. Roll. Take 2 from pile 1.',
];

/**
 * A tiny untrained policy (1 layer, width 16, context 96) and its tokenizer stored as a checkpoint blob in
 * well under a second, and a stream `runId` whose `policy.ready` (stage sft) pins it, as a run's would.
 */
export async function recordTinyCheckpoint(
  stores: { eventStore: EventStore; blobStore: BlobStore },
  runId: string,
): Promise<{ checkpointHash: string; context: number }> {
  await tf.setBackend('cpu');
  const tokenizer = trainTokenizer({ corpus: CORPUS, vocabSize: 300 });
  const tokenizerHash = await saveTokenizer(stores.blobStore, tokenizer);
  const model = new TransformerPolicy({
    vocabSize: tokenizer.vocabSize,
    dModel: 16,
    layers: 1,
    heads: 2,
    context: 96,
    mlpRatio: 2,
    tieEmbeddings: true,
    seed: 7,
  });
  const saved = await savePolicyCheckpoint(stores.blobStore, model, { tokenizerHash, backend: 'cpu' });
  model.dispose();
  await stores.eventStore.append(
    runId,
    [
      {
        type: 'policy.ready',
        payload: { stage: 'sft', step: 0, checkpointHash: saved.checkpointHash, final: true },
      },
    ],
    { expectedVersion: 'no-stream', producer: TEST_PRODUCER },
  );
  return { checkpointHash: saved.checkpointHash, context: 96 };
}
