import { expInPlace } from '../backend/vector-exp';
import { Rng } from '../training/rng';

export interface TokenChoiceOptions {
  /** 0 = greedy. */
  temperature: number;
  topK?: number;
  topP?: number;
}

/** log-softmax of logits / temperature (raw logits when greedy), in float64. */
export function logSoftmax(logits: ArrayLike<number>, temperature: number): Float64Array {
  const scale = temperature > 0 ? 1 / temperature : 1;
  const out = new Float64Array(logits.length);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    out[i] = logits[i] * scale;
    max = Math.max(max, out[i]);
  }
  const terms = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) terms[i] = out[i] - max;
  expInPlace(terms);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += terms[i];
  const logZ = max + Math.log(sum);
  for (let i = 0; i < logits.length; i++) out[i] = out[i] - logZ;
  return out;
}

/**
 * Picks the next token from one row of logits: greedy at temperature 0, otherwise sampling from the
 * temperature-scaled distribution restricted to the top-k, then to the smallest set whose mass reaches
 * top-p (as Hugging Face's warpers apply them). Ties break towards the lower id, so it is deterministic.
 */
export function chooseToken(logits: ArrayLike<number>, options: TokenChoiceOptions, rng: Rng): number {
  const vocab = logits.length;
  if (options.temperature <= 0) {
    let best = 0;
    for (let i = 1; i < vocab; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  const logProbs = logSoftmax(logits, options.temperature);
  let order = Array.from({ length: vocab }, (_, i) => i).sort((a, b) => logProbs[b] - logProbs[a] || a - b);
  if (options.topK && options.topK > 0 && options.topK < vocab) order = order.slice(0, options.topK);
  if (options.topP !== undefined && options.topP < 1) {
    let mass = 0;
    let keep = 0;
    while (keep < order.length && (keep === 0 || mass < options.topP))
      mass += Math.exp(logProbs[order[keep++]]);
    order = order.slice(0, keep);
  }
  let total = 0;
  for (const id of order) total += Math.exp(logProbs[id]);
  let target = rng.next() * total;
  for (const id of order) {
    target -= Math.exp(logProbs[id]);
    if (target < 0) return id;
  }
  return order[order.length - 1];
}
