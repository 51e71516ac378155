import { setImmediate as nextTurn } from 'node:timers/promises';
import { chooseToken, decodeStep, disposeCache, Rng, type KvCache } from '@recon/policy';
import type { ChatPolicy } from './chat-policy';
import { CompletionText } from './completion-text';

export interface ChoiceSampling {
  promptIds: readonly number[];
  /** Choices to sample; choice i draws from its own generator seeded `seed + i`. */
  n: number;
  seed: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  stop: readonly string[];
}

export interface SampledChoice {
  text: string;
  completionTokens: number;
  finishReason: 'stop' | 'length';
}

/** Called as text becomes final, per choice, and once per choice when it ends. */
export interface ChoiceListener {
  onText?(index: number, delta: string): void;
  onFinish?(index: number, finishReason: 'stop' | 'length'): void;
}

interface Choice {
  rng: Rng;
  text: CompletionText;
  tokens: number;
  finishReason?: 'stop' | 'length';
}

/**
 * Samples `n` choices of one prompt together (one batch row each, with a KV cache), token by token. It yields
 * to the event loop after every token, so a stream is written as it is produced, other requests are served
 * meanwhile, and an aborted request (its client gone) stops sampling.
 */
export async function sampleChoices(
  policy: Pick<ChatPolicy, 'model' | 'endIds' | 'replyText'>,
  sampling: ChoiceSampling,
  listener: ChoiceListener = {},
  signal?: AbortSignal,
): Promise<SampledChoice[]> {
  const { model, endIds } = policy;
  const choices: Choice[] = Array.from({ length: sampling.n }, (_, i) => ({
    rng: new Rng(sampling.seed + i),
    text: new CompletionText(policy.replyText(), sampling.stop),
    tokens: 0,
  }));
  const finish = (index: number, reason: 'stop' | 'length') => {
    const choice = choices[index];
    const rest = choice.text.end();
    if (rest) listener.onText?.(index, rest);
    choice.finishReason = reason;
    listener.onFinish?.(index, reason);
  };
  const pads = new Array<number>(sampling.n).fill(0);
  const steps = Math.min(sampling.maxTokens, model.config.context - sampling.promptIds.length);
  let cache: KvCache = model.emptyCache();
  let ids: number[] = choices.flatMap(() => [...sampling.promptIds]);
  let fed = sampling.promptIds.length;
  try {
    for (let step = 0; step < steps && !signal?.aborted; step++) {
      const out = decodeStep(model, cache, ids, pads, fed);
      cache = out.cache;
      const vocab = out.logits.length / sampling.n;
      ids = choices.map((choice, index) => {
        if (choice.finishReason) return 0;
        const row = out.logits.subarray(index * vocab, (index + 1) * vocab);
        const token = chooseToken(
          row,
          { temperature: sampling.temperature, topP: sampling.topP },
          choice.rng,
        );
        choice.tokens += 1;
        if (endIds.has(token)) {
          finish(index, 'stop');
          return token;
        }
        const { delta, stopped } = choice.text.push(token);
        if (delta) listener.onText?.(index, delta);
        if (stopped) finish(index, 'stop');
        return token;
      });
      fed = 1;
      if (choices.every((c) => c.finishReason)) break;
      await nextTurn();
    }
  } finally {
    disposeCache(cache);
  }
  choices.forEach((choice, index) => {
    if (!choice.finishReason) finish(index, 'length');
  });
  return choices.map((c) => ({
    text: c.text.value,
    completionTokens: c.tokens,
    finishReason: c.finishReason ?? 'length',
  }));
}
