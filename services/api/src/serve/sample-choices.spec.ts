import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { TransformerPolicy, trainTokenizer } from '@recon/policy';
import { builtinChatPolicy } from './builtin-chat-policy';
import { sampleChoices, type ChoiceSampling } from './sample-choices';

describe('sampling the choices of a request', () => {
  const tokenizer = trainTokenizer({ corpus: ['Alice and Bob choose A or B.'], vocabSize: 280 });
  let model: TransformerPolicy;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    model = new TransformerPolicy({
      vocabSize: tokenizer.vocabSize,
      dModel: 16,
      layers: 1,
      heads: 2,
      context: 64,
      mlpRatio: 2,
      tieEmbeddings: true,
      seed: 7,
    });
  });
  afterAll(() => model.dispose());

  const prompt = tokenizer.encodeChat([{ role: 'user', content: 'Alice?' }], { addGenerationPrompt: true });
  const sampling: ChoiceSampling = {
    promptIds: prompt,
    n: 1,
    seed: 0,
    temperature: 1,
    topP: 1,
    maxTokens: 40,
    stop: [],
  };

  it('stops sampling once the request is aborted (its client gone), leaking no tensors', async () => {
    const tensors = tf.memory().numTensors;
    // A seed whose completion runs long enough to be cut.
    let seed = 0;
    let whole = await sampleChoices(builtinChatPolicy({ checkpointHash: '', model, tokenizer }), {
      ...sampling,
      seed,
    });
    while (whole[0].completionTokens < 10)
      whole = await sampleChoices(builtinChatPolicy({ checkpointHash: '', model, tokenizer }), {
        ...sampling,
        seed: ++seed,
      });
    const controller = new AbortController();
    const cut = await sampleChoices(
      builtinChatPolicy({ checkpointHash: '', model, tokenizer }),
      { ...sampling, seed },
      {
        onText: () => {
          if (!controller.signal.aborted) controller.abort();
        },
      },
      controller.signal,
    );
    expect(cut[0].completionTokens).toBeLessThan(whole[0].completionTokens);
    expect(whole[0].text.startsWith(cut[0].text)).toBe(true);
    expect(cut[0].finishReason).toBe('length');
    const aborted = new AbortController();
    aborted.abort();
    expect(
      await sampleChoices(
        builtinChatPolicy({ checkpointHash: '', model, tokenizer }),
        sampling,
        {},
        aborted.signal,
      ),
    ).toEqual([{ text: '', completionTokens: 0, finishReason: 'length' }]);
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
