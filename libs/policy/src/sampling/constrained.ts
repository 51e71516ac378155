import { z } from 'zod';
import { disposeCache, type KvCache, type TransformerPolicy } from '../model/transformer';
import { Rng } from '../training/rng';
import { decodeStep, samplingOptionsSchema, type SampledCompletion, type TextDecoder } from './sampler';
import { chooseToken, logSoftmax, type TokenChoiceOptions } from './token-choice';

export interface TextCodec extends TextDecoder {
  encode(text: string): number[];
}

interface TrieNode {
  children: Map<number, TrieNode>;
  /** Set on the node reached by the end token: the allowed string this path spells. */
  completion?: string;
}

/**
 * The allowed completions as a trie of token ids: each string in its canonical encoding followed by the
 * end token, so a string that is a prefix of another still ends only where the model may stop. Other
 * tokenisations of the same text are not reachable (a model that would spell an answer differently is
 * steered to the canonical spelling).
 */
export class CompletionTrie {
  readonly root: TrieNode = { children: new Map() };
  /** Tokens of the longest allowed completion, end token included. */
  readonly longest: number;

  constructor(codec: TextCodec, allowed: readonly string[], endTokenId: number) {
    if (allowed.length === 0) throw new Error('constrained decoding: the set of allowed completions is empty');
    let longest = 0;
    for (const text of new Set(allowed)) {
      const ids = [...codec.encode(text), endTokenId];
      if (ids.slice(0, -1).includes(endTokenId))
        throw new Error(`constrained decoding: allowed completion ${JSON.stringify(text)} contains the end token`);
      if (codec.decode(ids.slice(0, -1)) !== text)
        throw new Error(`constrained decoding: ${JSON.stringify(text)} does not survive encode/decode`);
      let node = this.root;
      for (const id of ids) {
        let child = node.children.get(id);
        if (!child) {
          child = { children: new Map() };
          node.children.set(id, child);
        }
        node = child;
      }
      node.completion = text;
      longest = Math.max(longest, ids.length);
    }
    this.longest = longest;
  }
}

/**
 * A walk down a CompletionTrie: the tokens allowed next (ascending ids, so ties break towards the lower id
 * as in free sampling), and whether the walk has reached the end of an allowed completion.
 */
export class ConstrainedWalk {
  private node: TrieNode;
  constructor(trie: CompletionTrie) {
    this.node = trie.root;
  }

  get done(): boolean {
    return this.node.completion !== undefined;
  }

  /** The allowed completion once done. */
  get completion(): string | undefined {
    return this.node.completion;
  }

  allowed(): number[] {
    return [...this.node.children.keys()].sort((a, b) => a - b);
  }

  /** The only token allowed next, when there is exactly one (no model call is needed to choose it). */
  forced(): number | undefined {
    if (this.node.children.size !== 1) return undefined;
    return this.node.children.keys().next().value;
  }

  advance(token: number): void {
    const next = this.node.children.get(token);
    if (!next) throw new Error(`constrained decoding: token ${token} is not allowed here`);
    this.node = next;
  }
}

/**
 * Chooses among the allowed tokens only: the logits restricted to `allowed` go through the same chooser as
 * free sampling (temperature, top-k, top-p, one draw from `rng`), so the masked distribution is the free one
 * renormalised over the allowed tokens. Returns the token and its log-probability under that distribution.
 */
export function chooseAllowedToken(
  logits: ArrayLike<number>,
  allowed: readonly number[],
  options: TokenChoiceOptions,
  rng: Rng,
): { token: number; logProb: number } {
  const restricted = Float64Array.from(allowed, (id) => logits[id]);
  const k = chooseToken(restricted, options, rng);
  return { token: allowed[k], logProb: logSoftmax(restricted, options.temperature)[k] };
}

export const constrainedOptionsSchema = samplingOptionsSchema
  .pick({ temperature: true, topP: true, topK: true })
  .extend({ endTokenId: z.number().int().min(0) });
export type ConstrainedOptionsInput = z.input<typeof constrainedOptionsSchema>;

/**
 * Legal-move-constrained generation (as structured-output servers do it): token by token, the model's
 * logits are masked to the tokens that keep the output on the canonical tokenisation of some allowed
 * string, until that string's end token. Runs of forced tokens (one allowed continuation) are appended
 * without sampling and fed to the model in one pass ("jump forward"); their log-probability under the
 * masked distribution is 0. The output is always one of `allowed`, and replays exactly from `seed`.
 */
export function generateConstrained(
  model: TransformerPolicy,
  codec: TextCodec,
  request: { promptIds: readonly number[]; seed: number },
  allowed: readonly string[] | CompletionTrie,
  optionsInput: ConstrainedOptionsInput,
): SampledCompletion {
  const options = constrainedOptionsSchema.parse(optionsInput);
  const trie = allowed instanceof CompletionTrie ? allowed : new CompletionTrie(codec, allowed, options.endTokenId);
  const context = model.config.context;
  if (request.promptIds.length === 0) throw new Error('generateConstrained: the prompt is empty');
  // The end token is never fed back, so the longest path needs longest - 1 positions after the prompt.
  if (request.promptIds.length + trie.longest - 1 > context)
    throw new Error(
      `generateConstrained: prompt of ${request.promptIds.length} tokens plus the longest allowed completion ` +
        `(${trie.longest} tokens) exceeds the context of ${context}`,
    );
  const walk = new ConstrainedWalk(trie);
  const rng = new Rng(request.seed);
  const tokens: number[] = [];
  const logProbs: number[] = [];
  let pending: number[] = [...request.promptIds];
  let cache: KvCache = model.emptyCache();
  try {
    while (!walk.done) {
      const forced = walk.forced();
      if (forced !== undefined) {
        walk.advance(forced);
        tokens.push(forced);
        logProbs.push(0);
        pending.push(forced);
        continue;
      }
      const out = decodeStep(model, cache, pending, [0], pending.length);
      cache = out.cache;
      const { token, logProb } = chooseAllowedToken(out.logits, walk.allowed(), options, rng);
      walk.advance(token);
      tokens.push(token);
      logProbs.push(logProb);
      pending = [token];
    }
  } finally {
    disposeCache(cache);
  }
  return { tokens, text: walk.completion as string, logProbs, finishReason: 'stop', truncated: false };
}
