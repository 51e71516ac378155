import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import type { BlobStore, EventStore, NewEvent, RecordedEvent } from '@recon/eventlog';
import type { ExperimentConfig } from '@recon/experiment';
import { deriveSeed } from '@recon/games';
import { loadRegisteredDataset } from '@recon/persistence';
import {
  activeBackend,
  adaptersOffReference,
  GrpoTrainer,
  selectBackend,
  SftTrainer,
  weightsHash,
} from '@recon/policy';
import {
  assertSameCheckpoint,
  checkpointContent,
  encodeAdapterCheckpoint,
  HfTokenizer,
  loadPretrained,
  PretrainedChatTokens,
  type PretrainedCausalLM,
  type PretrainedSource,
} from '@recon/pretrained';
import { openPretrainedCheckpoint, recordedPretrainedSource } from '@recon/policy-runtime';
import { runEvent, sftReady, sftStepCompleted, stagePlan, untrainedReady } from './training-process';
import { grpoTrainerConfig } from './grpo-trainer-config';
import type { GrpoPolicy } from './grpo-policy';
import { sftTrainerConfig } from './sft-trainer-config';
import { sftExamples, type TraceRowLike } from './sft-examples';

type PretrainedPolicy = Extract<ExperimentConfig['policy'], { kind: 'pretrained' }>;
type Dataset = PayloadOf<'dataset.resolved'>['datasets'][number];

export interface PretrainedTrainingDeps {
  eventStore: EventStore;
  blobStore: BlobStore;
  append(runId: string, events: NewEvent[]): Promise<RecordedEvent[]>;
  onProgress?: (runId: string, phase: 'sft' | 'grpo', step: number, total: number) => void;
}

/**
 * The checkpoint directory a run trains: the one it recorded (refused when its files changed since), or,
 * the first time, the configured directory, recorded now by its content hash like a dataset.
 */
export async function resolvePretrainedSource(
  deps: PretrainedTrainingDeps,
  runId: string,
  policy: PretrainedPolicy,
): Promise<PretrainedSource> {
  const recorded = await recordedPretrainedSource(deps.eventStore, runId);
  if (recorded) {
    assertSameCheckpoint(recorded.path, recorded);
    return recorded;
  }
  const dir = path.resolve(policy.path);
  const content = checkpointContent(dir);
  const architecture = (
    JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as {
      architectures: string[];
    }
  ).architectures[0];
  await deps.append(runId, [
    runEvent(runId, 'policy.source.resolved', [], {
      kind: 'pretrained',
      path: dir,
      architecture,
      ...content,
    }),
  ]);
  return { path: dir, ...content };
}

async function saveAdapters(
  blobStore: BlobStore,
  model: PretrainedCausalLM,
  options: Parameters<typeof encodeAdapterCheckpoint>[1],
) {
  const { bytes, hash } = encodeAdapterCheckpoint(model, options);
  const stored = await blobStore.put(bytes);
  if (stored !== hash)
    throw new Error(`checkpoint blob hash ${stored} differs from its content hash ${hash}`);
  return {
    checkpointHash: hash,
    weightsHash: weightsHash(model.namedWeights()),
    sizeBytes: bytes.byteLength,
  };
}

/**
 * A run whose policy is a pretrained checkpoint with LoRA, trained in this process (not on the compute
 * pool, which runs the built-in transformer): the source is recorded, then the untrained stage, SFT steps
 * and the SFT stage, with the same events as a built-in policy; checkpoints hold the adapters only.
 * Returns the checkpoint of the last stage recorded (where GRPO starts).
 */
export async function trainPretrained(
  deps: PretrainedTrainingDeps,
  run: { runId: string; config: ExperimentConfig; seed: number; datasets: Dataset[] },
): Promise<{ checkpointHash: string }> {
  const { runId, config, seed, datasets } = run;
  const policy = config.policy as PretrainedPolicy;
  const source = await resolvePretrainedSource(deps, runId, policy);
  const backend = activeBackend() ?? (await selectBackend(policy.backend));
  const policySeed = deriveSeed(seed, 'policy-init');
  const { model, spec } = loadPretrained(source.path, {
    lora: policy.lora,
    seed: policySeed,
    ...(policy.context ? { context: policy.context } : {}),
  });
  try {
    const tokenizer = new PretrainedChatTokens(HfTokenizer.load(source.path), spec);
    // The tokenizer is a file of the recorded directory; stored as a blob so an audit finds what the run names.
    const tokenizerHash = await deps.blobStore.put(fs.readFileSync(path.join(source.path, 'tokenizer.json')));
    const saveOptions = { sourceSha256: source.sha256, backend: backend.name, tokenizerHash };
    const untrained = await saveAdapters(deps.blobStore, model, saveOptions);
    await deps.append(runId, [
      runEvent(runId, 'policy.initialised', [], {
        backend: { name: backend.name, threads: backend.threads ?? 1, simd: backend.simd ?? false },
        modelConfig: {
          pretrained: source.sha256,
          architecture: spec.architecture,
          context: model.config.context,
          lora: { ...model.lora! },
        },
        tokenizerHash,
        seed: policySeed,
        weightsHash: untrained.weightsHash,
      }),
      untrainedReady(runId, config, untrained.checkpointHash),
    ]);
    if (!stagePlan(config).sft) return untrained;
    const sft = config.sft!;
    const sftSet = datasets.find((d) => d.role === 'sft');
    const traces = sftSet ? (await loadRegisteredDataset<TraceRowLike>(deps, sftSet.versionHash)).rows : [];
    const context = model.config.context;
    const examples = sftExamples(tokenizer, traces, context);
    if (examples.sequences.length === 0)
      throw new Error(`SFT: none of the ${traces.length} traces fits the context of ${context} tokens`);
    const trainer = new SftTrainer(
      model,
      examples.sequences,
      sftTrainerConfig(sft, {
        padId: tokenizer.specialTokens.pad,
        context,
        dataSeed: deriveSeed(seed, 'sft-data'),
      }),
    );
    try {
      for (let step = 1; step <= sft.steps; step++) {
        const metrics = trainer.trainStep();
        await deps.append(runId, [sftStepCompleted(runId, sft, step, metrics, examples, 1)]);
        deps.onProgress?.(runId, 'sft', step, sft.steps);
      }
      const saved = await saveAdapters(deps.blobStore, model, {
        ...saveOptions,
        trainer: trainer.getState(),
      });
      await deps.append(runId, [
        runEvent(runId, 'checkpoint.saved', ['sft', sft.steps], { phase: 'sft', step: sft.steps, ...saved }),
        sftReady(runId, config, saved.checkpointHash),
      ]);
      return saved;
    } finally {
      trainer.dispose();
    }
  } finally {
    model.dispose();
  }
}

/**
 * A pretrained run's GRPO: the recorded directory with the adapters of `startHash` (and their optimiser
 * state when a step was already taken), updated in this process by the same GRPO trainer as the built-in
 * policy's. The KL term is measured against the frozen base (the same model with its adapters off), which
 * needs no second copy of the weights.
 */
export async function openPretrainedGrpoPolicy(
  deps: Pick<PretrainedTrainingDeps, 'eventStore' | 'blobStore'>,
  args: { runId: string; config: ExperimentConfig; startHash: string; restoreTrainer?: boolean },
): Promise<GrpoPolicy> {
  const { runId, config } = args;
  const grpo = config.grpo!;
  const policy = config.policy as PretrainedPolicy;
  const [initialised] = await deps.eventStore.readStream(runId, { types: ['policy.initialised'] });
  if (!initialised) throw new Error(`run ${runId} recorded no pretrained policy to continue with GRPO`);
  const start = await openPretrainedCheckpoint(deps, runId, args.startHash, policy.backend);
  const backend = activeBackend() ?? (await selectBackend(policy.backend));
  const { model, source, tokens } = start;
  let trainer: GrpoTrainer | undefined;
  try {
    trainer = new GrpoTrainer(
      model,
      grpo.beta > 0 ? adaptersOffReference(model) : undefined,
      grpoTrainerConfig(config, { padId: tokens.specialTokens.pad, context: model.config.context }),
    );
    if (args.restoreTrainer) trainer.setState(start.trainer);
  } catch (error) {
    trainer?.dispose();
    model.dispose();
    throw error;
  }
  const trained = trainer;
  const saveOptions = {
    sourceSha256: source.sha256,
    backend: backend.name,
    tokenizerHash: initialised.payload.tokenizerHash,
  };
  return {
    tokens,
    context: model.config.context,
    workers: 1,
    // In this process: the compute pool's workers run the built-in transformer only.
    train: async (groups) => trained.train(groups),
    saveStart: () => saveAdapters(deps.blobStore, model, saveOptions),
    saveTrained: () => saveAdapters(deps.blobStore, model, { ...saveOptions, trainer: trained.getState() }),
    close: async () => {
      trained.dispose();
      model.dispose();
    },
  };
}
