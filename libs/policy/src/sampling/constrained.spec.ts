import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { TransformerPolicy } from '../model/transformer';
import { SPECIAL_TOKEN_IDS } from '../tokenizer/special-tokens';
import { trainTokenizer } from '../tokenizer/train';
import { Rng } from '../training/rng';
import { chooseAllowedToken, CompletionTrie, ConstrainedWalk, generateConstrained } from './constrained';

const EOS = SPECIAL_TOKEN_IDS.eos;
// Game answer formats, so merges exist inside the strings the tests constrain to.
const tokenizer = trainTokenizer({
  corpus: [
    'Answer <s>choice_1</s> or <s>choice_2</s> then stop. <C1R2> <C3R3> <pile:2, take:3> <Pass> <Bet>',
    '<Proposal: [1, 2, 3]> <Agree> <Utterance: [0, 4, 2]> <a7->a6*> <roll> <stop> <10> <1>',
  ],
  vocabSize: 400,
});

const fragments = ['<s>', '</s>', 'choice_', '<C', 'R', '>', '<', '1', '2', '10', ' ', 'take:', 'Agree', 'x', 'é'];
const allowedSets = fc
  .array(fc.array(fc.constantFrom(...fragments), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('')), {
    minLength: 1,
    maxLength: 8,
  })
  .map((set) => [...new Set(set)]);

/** Walks the trie with the given logits generator, as generateConstrained does, without a model. */
function walkWith(trie: CompletionTrie, logitsAt: (step: number) => Float64Array, temperature: number, seed: number) {
  const walk = new ConstrainedWalk(trie);
  const rng = new Rng(seed);
  const tokens: number[] = [];
  for (let step = 0; !walk.done; step++) {
    const { token } = chooseAllowedToken(logitsAt(step), walk.allowed(), { temperature }, rng);
    walk.advance(token);
    tokens.push(token);
  }
  return { completion: walk.completion as string, tokens };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('constrained decoding over a completion trie', () => {
  it('only ever yields an allowed string, ending on the end token (random logits, random allowed sets)', () => {
    fc.assert(
      fc.property(allowedSets, fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(0, 0.3, 1, 4), (allowed, seed, temperature) => {
        const trie = new CompletionTrie(tokenizer, allowed, EOS);
        const noise = new Rng(seed ^ 0x5bd1e995);
        const logits = () => Float64Array.from({ length: tokenizer.vocabSize }, () => (noise.next() - 0.5) * 20);
        const { completion, tokens } = walkWith(trie, logits, temperature, seed);
        expect(allowed).toContain(completion);
        expect(tokens.at(-1)).toBe(EOS);
        expect(tokenizer.decode(tokens.slice(0, -1))).toBe(completion);
        expect(tokens.slice(0, -1)).toEqual(tokenizer.encode(completion));
      }),
      { numRuns: 300 },
    );
  });

  it('reaches every allowed string, including one that is a prefix of another', () => {
    const allowed = ['<1>', '<10>', '<s>choice_1</s>', '<s>choice_12</s>'];
    const trie = new CompletionTrie(tokenizer, allowed, EOS);
    const seen = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const flat = () => new Float64Array(tokenizer.vocabSize);
      seen.add(walkWith(trie, flat, 1, seed).completion);
    }
    expect([...seen].sort()).toEqual([...allowed].sort());
  });

  it('at temperature 0 takes the argmax among the allowed tokens, whatever the disallowed ones score', () => {
    fc.assert(
      fc.property(allowedSets, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (allowed, seed) => {
        const trie = new CompletionTrie(tokenizer, allowed, EOS);
        const noise = new Rng(seed);
        const walk = new ConstrainedWalk(trie);
        while (!walk.done) {
          const logits = Float64Array.from({ length: tokenizer.vocabSize }, () => noise.next() * 10);
          const candidates = walk.allowed();
          const best = candidates.reduce((a, b) => (logits[b] > logits[a] ? b : a));
          for (let id = 0; id < logits.length; id++) if (!candidates.includes(id)) logits[id] = 100; // tempting, forbidden
          const { token, logProb } = chooseAllowedToken(logits, candidates, { temperature: 0 }, new Rng(seed));
          expect(token).toBe(best);
          expect(logProb).toBeLessThanOrEqual(0);
          walk.advance(token);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('samples the free distribution renormalised over the allowed tokens', () => {
    const logits = new Float64Array(tokenizer.vocabSize).fill(0);
    logits[5] = Math.log(3);
    logits[9] = 50; // not allowed
    const rng = new Rng(4);
    let fives = 0;
    for (let i = 0; i < 4000; i++) fives += chooseAllowedToken(logits, [5, 7], { temperature: 1 }, rng).token === 5 ? 1 : 0;
    expect(fives / 4000).toBeGreaterThan(0.72);
    expect(fives / 4000).toBeLessThan(0.78);
    const { token, logProb } = chooseAllowedToken(logits, [5, 7], { temperature: 1 }, new Rng(1));
    expect(Math.exp(logProb)).toBeCloseTo(token === 5 ? 0.75 : 0.25, 10);
  });

  it('refuses an empty set and a string holding the end token', () => {
    expect(() => new CompletionTrie(tokenizer, [], EOS)).toThrow(/empty/);
    expect(() => new CompletionTrie(tokenizer, ['a<|eos|>b'], EOS)).toThrow(/end token/);
  });
});

describe('generateConstrained with a model', () => {
  const model = new TransformerPolicy({ vocabSize: tokenizer.vocabSize, dModel: 16, layers: 2, heads: 2, context: 64, seed: 5 });
  const prompt = tokenizer.encodeChat([{ role: 'user', content: 'Pick one: choice_1 or choice_2' }], {
    addGenerationPrompt: true,
  });
  const allowed = ['<s>choice_1</s>', '<s>choice_2</s>', '<s>choice_3</s>'];

  it('is deterministic per seed, always allowed, and varies across seeds', () => {
    const run = (seed: number) =>
      generateConstrained(model, tokenizer, { promptIds: prompt, seed }, allowed, { temperature: 2, endTokenId: EOS });
    expect(run(3)).toEqual(run(3));
    const texts = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const out = run(seed);
      expect(allowed).toContain(out.text);
      expect(out.finishReason).toBe('stop');
      expect(out.tokens.at(-1)).toBe(EOS);
      texts.add(out.text);
    }
    expect(texts.size).toBeGreaterThan(1);
  });

  it('at temperature 0 picks the allowed continuation the model scores highest', () => {
    const out = generateConstrained(model, tokenizer, { promptIds: prompt, seed: 1 }, allowed, {
      temperature: 0,
      endTokenId: EOS,
    });
    // Score each allowed answer's first differing token with a full forward pass over prompt + common prefix.
    const prefix = tokenizer.encode('<s>choice_');
    expect(allowed.every((a) => tokenizer.encode(a).slice(0, prefix.length).join() === prefix.join())).toBe(true);
    const input = [...prompt, ...prefix];
    const logits = tf.tidy(() => model.logits(tf.tensor2d([input], [1, input.length], 'int32')).arraySync()[0].at(-1)!);
    const firstTokens = allowed.map((a) => tokenizer.encode(a)[prefix.length]);
    const best = firstTokens.reduce((a, b) => (logits[b] > logits[a] ? b : a));
    expect(out.tokens[prefix.length]).toBe(best);
  });

  it('reports masked log-probabilities: 0 for forced tokens, negative at the one real choice', () => {
    const out = generateConstrained(model, tokenizer, { promptIds: prompt, seed: 7 }, allowed, {
      temperature: 1,
      endTokenId: EOS,
    });
    const prefix = tokenizer.encode('<s>choice_').length;
    out.logProbs.forEach((lp, i) => (i === prefix ? expect(lp).toBeLessThan(0) : expect(lp).toBe(0)));
  });

  it('leaves no tensor behind', () => {
    generateConstrained(model, tokenizer, { promptIds: prompt, seed: 1 }, allowed, { temperature: 1, endTokenId: EOS });
    const before = tf.memory().numTensors;
    for (let seed = 0; seed < 3; seed++)
      generateConstrained(model, tokenizer, { promptIds: prompt, seed }, ['<1>', '<10>', '<2>'], { temperature: 1, endTokenId: EOS });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a prompt that leaves no room for the longest allowed completion', () => {
    expect(() =>
      generateConstrained(model, tokenizer, { promptIds: new Array(60).fill(1), seed: 1 }, allowed, {
        temperature: 0,
        endTokenId: EOS,
      }),
    ).toThrow(/exceeds the context of 64/);
  });
});
