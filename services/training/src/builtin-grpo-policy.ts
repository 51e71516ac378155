import type { BlobStore } from '@recon/eventlog';
import type { ExperimentConfig } from '@recon/experiment';
import { TransformerPolicy, type BackendInfo, type ByteBpeTokenizer } from '@recon/policy';
import {
  assignWeights,
  DataParallelGrpo,
  loadPolicyCheckpoint,
  policyComputePool,
  resolveWorkerCount,
  savePolicyCheckpoint,
} from '@recon/policy-runtime';
import { grpoTrainerConfig } from './grpo-trainer-config';
import type { GrpoPolicy } from './grpo-policy';

/**
 * The built-in transformer's GRPO: the policy of the checkpoint `startHash` (with fresh LoRA adapters when
 * grpo.lora is set), updated on the compute pool's workers (replicas of the policy, its reference and
 * AdamW); this thread's copy receives the workers' weights for each checkpoint.
 */
export async function openBuiltinGrpoPolicy(args: {
  blobStore: BlobStore;
  backend: BackendInfo;
  config: ExperimentConfig;
  tokenizer: ByteBpeTokenizer;
  tokenizerHash: string;
  startHash: string;
  referenceHash: string;
  restoreTrainer?: boolean;
}): Promise<GrpoPolicy> {
  const { blobStore, backend, config, tokenizer, tokenizerHash } = args;
  const grpo = config.grpo!;
  const lora = grpo.lora
    ? { lora: { rank: grpo.lora.rank, alpha: grpo.lora.alpha, targets: grpo.lora.targets } }
    : {};
  const start = await loadPolicyCheckpoint(blobStore, args.startHash, lora);
  const model = start.model;
  let reference: TransformerPolicy | 'adapters-off' | undefined;
  if (grpo.lora) reference = grpo.beta > 0 ? 'adapters-off' : undefined;
  else if (grpo.beta > 0) reference = (await loadPolicyCheckpoint(blobStore, args.referenceHash)).model;
  const pool = await policyComputePool(
    backend,
    resolveWorkerCount(config.policy.kind === 'builtin' ? config.policy.workers : undefined),
  );
  let trainer: DataParallelGrpo;
  try {
    trainer = await DataParallelGrpo.open(
      pool,
      model,
      reference,
      grpoTrainerConfig(config, { padId: tokenizer.specialTokens.pad, context: model.config.context }),
      {
        maxRows: grpo.promptsPerStep * grpo.numGenerations,
        ...(args.restoreTrainer ? { state: start.trainer } : {}),
      },
    );
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    // The workers hold the reference now.
    if (reference instanceof TransformerPolicy) reference.dispose();
  }
  return {
    tokens: tokenizer,
    context: model.config.context,
    workers: pool.size,
    train: (groups) => trainer.train(groups),
    saveStart: () => savePolicyCheckpoint(blobStore, model, { tokenizerHash, backend: backend.name }),
    async saveTrained() {
      const trained = await trainer.state();
      assignWeights(model, trained.weights);
      return savePolicyCheckpoint(blobStore, model, {
        tokenizerHash,
        backend: backend.name,
        trainer: trained.trainer,
      });
    },
    async close() {
      model.dispose();
      await trainer.close();
    },
  };
}
