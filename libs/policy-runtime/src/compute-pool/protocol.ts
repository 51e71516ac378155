import type {
  GrpoMicroBatchMetrics,
  GrpoStepPlan,
  GrpoTrainerConfigInput,
  RolloutGroup,
  BackendInfo,
  BackendName,
  BackendRequirement,
  ConstrainedOptionsInput,
  SampledCompletion,
  SampleRequest,
  SamplingOptionsInput,
  SftTrainerConfigInput,
  TokenSequence,
  TrainerState,
  TransformerConfigInput,
} from '@recon/policy';

/** Weights by name as plain arrays: what crosses between threads (and what a checkpoint decodes to). */
export type WeightArrays = Record<string, { shape: number[]; values: Float32Array }>;

/** A policy a worker may already hold (keyed, usually by checkpoint hash), with what builds it if not. */
export interface PolicyContent {
  model: TransformerConfigInput;
  weights: WeightArrays;
  /** ByteBpeTokenizer.toJSON(). */
  tokenizer: unknown;
}

export interface SftOpen {
  kind: 'sft.open';
  session: string;
  model: TransformerConfigInput;
  weights: WeightArrays;
  trainer: SftTrainerConfigInput;
  examples: TokenSequence[];
  state?: TrainerState;
  /** Parts each gradient-accumulation micro-batch is cut into (fixed by the run, not by the worker count). */
  split: number;
  worker: number;
  workers: number;
  /** One slot of every trainable weight's gradient per micro-batch of a step, in the layout's order. */
  gradients: SharedArrayBuffer;
}

export interface GrpoOpen {
  kind: 'grpo.open';
  session: string;
  /** With LoRA adapters when the run trains them (weights then include the adapters). */
  model: TransformerConfigInput;
  weights: WeightArrays;
  /** KL reference: the weights of a frozen copy, the model with its adapters off, or none (beta 0). */
  reference:
    | { kind: 'weights'; model: TransformerConfigInput; weights: WeightArrays }
    | { kind: 'adapters-off' }
    | { kind: 'none' };
  trainer: GrpoTrainerConfigInput;
  state?: TrainerState;
  split: number;
  worker: number;
  workers: number;
  gradients: SharedArrayBuffer;
}

export interface GrpoGradientsReply {
  /** Metrics of each micro-batch this worker computed, by micro-batch index. */
  results: Array<[number, GrpoMicroBatchMetrics]>;
  microBatches: number;
  iterations: number;
  rewardStats: GrpoStepPlan['rewardStats'];
}

export type PoolRequest =
  | { kind: 'init'; backend: BackendName; requirement: BackendRequirement }
  | SftOpen
  | { kind: 'sft.gradients'; session: string }
  | { kind: 'sft.apply'; session: string }
  | { kind: 'sft.state'; session: string }
  | GrpoOpen
  /** `groups` starts a batch (its first iteration); later iterations of the batch send none. */
  | { kind: 'grpo.gradients'; session: string; groups?: RolloutGroup[] }
  | { kind: 'grpo.apply'; session: string }
  | { kind: 'grpo.state'; session: string }
  | { kind: 'close'; session: string }
  /** Live tensors in the worker's tfjs (leak checks). */
  | { kind: 'memory' }
  | {
      kind: 'generate';
      key: string;
      /** Present when the worker does not hold `key` yet (the pool mirrors each worker's cache). */
      policy?: PolicyContent;
      requests: SampleRequest[];
      options: SamplingOptionsInput;
    }
  /** One completion masked to `allowed` (a game's legal replies), as generateConstrained samples it. */
  | {
      kind: 'generate.constrained';
      key: string;
      policy?: PolicyContent;
      request: SampleRequest;
      allowed: string[];
      options: ConstrainedOptionsInput;
    };

export interface SftGradientsReply {
  /** Loss of each micro-batch this worker computed, by micro-batch index. */
  losses: Array<[number, number]>;
  microBatches: number;
  tokens: number;
  sequences: number;
}

export interface SftApplyReply {
  step: number;
  learningRate: number;
  gradNorm: number;
  epoch: number;
}

export interface PoolReplies {
  init: Omit<BackendInfo, 'skipped'>;
  'sft.open': { parameters: number };
  'sft.gradients': SftGradientsReply;
  'sft.apply': SftApplyReply;
  'sft.state': { weights: WeightArrays; trainer: TrainerState };
  'grpo.open': { parameters: number };
  'grpo.gradients': GrpoGradientsReply;
  'grpo.apply': { step: number; learningRate: number; gradNorm: number };
  'grpo.state': { weights: WeightArrays; trainer: TrainerState };
  close: null;
  memory: { tensors: number; bytes: number };
  generate: SampledCompletion[];
  'generate.constrained': SampledCompletion;
}

export type ReplyOf<K extends PoolRequest['kind']> = PoolReplies[K];

/** `fatal`: the worker's numeric backend is unusable (a wasm abort) and the worker ends after this reply. */
export type WorkerMessage =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string; fatal?: boolean };

/** Policies a worker keeps for generation; the pool's mirror of each worker's cache uses the same bound. */
export const GENERATION_POLICIES_PER_WORKER = 2;
