import type { SampledCompletion, SampleRequest, SamplingOptionsInput } from '@recon/policy';
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
 * Samples `requests` on the pool: contiguous parts, part i on worker i mod size, answers in request order.
 * Each completion depends only on its prompt and seed (see generate()).
 */
export async function generateOnPool(
  pool: ComputePool,
  policy: PoolPolicy,
  requests: readonly SampleRequest[],
  options: SamplingOptionsInput,
): Promise<SampledCompletion[]> {
  if (requests.length === 0) return [];
  const size = Math.ceil(requests.length / GENERATION_SPLIT);
  const parts: SampleRequest[][] = [];
  for (let start = 0; start < requests.length; start += size)
    parts.push(
      requests.slice(start, start + size).map((r) => ({ promptIds: [...r.promptIds], seed: r.seed })),
    );
  const workers = parts.map((_, i) => i % pool.size);
  // Deciding what each worker must be sent and posting it is one turn: a concurrent call (another batch,
  // another service) must not post a part for this policy before the part that carries its content.
  const replies = await pool.serially(async () => {
    const sends = workers.map((worker) => pool.needsPolicy(worker, policy.key));
    let content: PolicyContent | undefined;
    try {
      if (sends.some(Boolean)) content = await policy.content();
    } catch (error) {
      workers.forEach((worker, i) => sends[i] && pool.forgetPolicy(worker, policy.key));
      throw error;
    }
    return parts.map((part, i) =>
      pool
        .request(workers[i], {
          kind: 'generate',
          key: policy.key,
          ...(sends[i] ? { policy: content } : {}),
          requests: part,
          options,
        })
        .catch((error: unknown) => {
          pool.forgetPolicy(workers[i], policy.key);
          throw error;
        }),
    );
  });
  const answers = await Promise.all(replies);
  return answers.flat();
}

/** A stored checkpoint as the pool samples it. */
export function checkpointPoolPolicy(policy: CheckpointPolicy): PoolPolicy {
  return {
    key: policy.checkpointHash,
    content: () => ({ model: policy.model, weights: policy.weights, tokenizer: policy.tokenizer.toJSON() }),
  };
}
