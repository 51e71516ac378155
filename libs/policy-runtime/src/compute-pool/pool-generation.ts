import {
  partitionRows,
  type ConstrainedOptionsInput,
  type SampledCompletion,
  type SampleRequest,
  type SamplingOptionsInput,
} from '@recon/policy';
import type { ComputePool } from './compute-pool';
import type { CheckpointPolicy } from '../policy-checkpoints';
import type { PolicyContent } from './protocol';

/**
 * Parts a generation batch is cut into. Fixed, not the worker count: each part is the same batch whichever
 * worker samples it, so completions are bit-identical whatever the pool's size.
 */
export const GENERATION_SPLIT = 2;

/** A policy to sample from: its key (checkpoint hash) and, when a worker does not hold it yet, its content. */
export interface PoolPolicy {
  key: string;
  content: () => PolicyContent | Promise<PolicyContent>;
}

/**
 * Samples `requests` on the pool: GENERATION_SPLIT parts, part i on worker i mod size, answers in request
 * order. A part pads its prompts to its longest, so the parts are cut by prompt length (partitionRows,
 * `balanced`): a batch's few long prompts (games) share a smaller part instead of padding half the batch.
 * Each completion depends only on its prompt and seed (see generate()), so the cut never changes an answer.
 */
export async function generateOnPool(
  pool: ComputePool,
  policy: PoolPolicy,
  requests: readonly SampleRequest[],
  options: SamplingOptionsInput,
): Promise<SampledCompletion[]> {
  if (requests.length === 0) return [];
  const cut = partitionRows(
    requests.map((r) => r.promptIds.length),
    GENERATION_SPLIT,
    'balanced',
  );
  const parts = cut.map((part) =>
    part.map((i) => ({ promptIds: [...requests[i].promptIds], seed: requests[i].seed })),
  );
  const workers = parts.map((_, i) => i % pool.size);
  const replies = await postWithPolicy(pool, policy, workers, (worker, content, i) =>
    pool.request(worker, { kind: 'generate', key: policy.key, ...content, requests: parts[i], options }),
  );
  const answers = await Promise.all(replies);
  const completions = new Array<SampledCompletion>(requests.length);
  cut.forEach((part, p) => part.forEach((i, j) => (completions[i] = answers[p][j])));
  return completions;
}

/**
 * One completion on worker `worker` (mod the pool's size): a caller that keeps a request in flight per
 * worker uses every core. Which worker samples it does not change the completion.
 */
export async function generateOneOnPool(
  pool: ComputePool,
  policy: PoolPolicy,
  worker: number,
  request: SampleRequest,
  options: SamplingOptionsInput,
): Promise<SampledCompletion> {
  const index = worker % pool.size;
  const [reply] = await postWithPolicy(pool, policy, [index], (w, content) =>
    pool.request(w, {
      kind: 'generate',
      key: policy.key,
      ...content,
      requests: [{ promptIds: [...request.promptIds], seed: request.seed }],
      options,
    }),
  );
  const [completion] = await reply;
  return completion;
}

/** One completion masked to `allowed` (see generateConstrained), on worker `worker` mod the pool's size. */
export async function generateConstrainedOnPool(
  pool: ComputePool,
  policy: PoolPolicy,
  worker: number,
  request: SampleRequest,
  allowed: readonly string[],
  options: ConstrainedOptionsInput,
): Promise<SampledCompletion> {
  const index = worker % pool.size;
  const [reply] = await postWithPolicy(pool, policy, [index], (w, content) =>
    pool.request(w, {
      kind: 'generate.constrained',
      key: policy.key,
      ...content,
      request: { promptIds: [...request.promptIds], seed: request.seed },
      allowed: [...allowed],
      options,
    }),
  );
  return reply;
}

/**
 * Posts one request per listed worker, sending the policy's content to the workers that do not hold it.
 * Deciding what each worker must be sent and posting it is one turn: a concurrent call (another batch,
 * another service) must not post a request for this policy before the one that carries its content.
 */
async function postWithPolicy<T>(
  pool: ComputePool,
  policy: PoolPolicy,
  workers: readonly number[],
  post: (worker: number, content: { policy?: PolicyContent }, i: number) => Promise<T>,
): Promise<Array<Promise<T>>> {
  return pool.serially(async () => {
    const sends = workers.map((worker) => pool.needsPolicy(worker, policy.key));
    let content: PolicyContent | undefined;
    try {
      if (sends.some(Boolean)) content = await policy.content();
    } catch (error) {
      workers.forEach((worker, i) => sends[i] && pool.forgetPolicy(worker, policy.key));
      throw error;
    }
    return workers.map((worker, i) =>
      post(worker, sends[i] ? { policy: content } : {}, i).catch((error: unknown) => {
        pool.forgetPolicy(worker, policy.key);
        throw error;
      }),
    );
  });
}

/** A stored checkpoint as the pool samples it. */
export function checkpointPoolPolicy(policy: CheckpointPolicy): PoolPolicy {
  return {
    key: policy.checkpointHash,
    content: () => ({ model: policy.model, weights: policy.weights, tokenizer: policy.tokenizer.toJSON() }),
  };
}
