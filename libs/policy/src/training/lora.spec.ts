import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { adaptersOffReference, adapterWeights } from './lora';
import { TinyLm } from './testing/tiny-lm';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('LoRA glue', () => {
  const input = () => tf.tensor2d([[1, 2, 3]], undefined, 'int32');
  const target = () => tf.tensor2d([[2, 3, 4]], undefined, 'int32');

  test('reference = the model with adapters off, and the adapters are back on afterwards', () => {
    const model = new TinyLm({ vocab: 6, dModel: 4, seed: 1, loraRank: 2 });
    (model.namedWeights().get('lm_head.lora_b') as tf.Variable).assign(
      tf.reshape(tf.range(0, 12, 1, 'float32'), [2, 6]),
    );
    const base = new TinyLm({ vocab: 6, dModel: 4, seed: 1 });
    const reference = adaptersOffReference(model).sequenceLogProbs(input(), target()).logProbs.dataSync();
    expect([...reference]).toEqual([...base.sequenceLogProbs(input(), target()).logProbs.dataSync()]);
    expect(model.adaptersEnabled()).toBe(true);
    const adapted = model.sequenceLogProbs(input(), target()).logProbs.dataSync();
    expect([...adapted]).not.toEqual([...reference]);
  });

  test('adapters are restored when the forward pass throws', () => {
    const model = new TinyLm({ vocab: 6, dModel: 4, seed: 1, loraRank: 2 });
    expect(() =>
      adaptersOffReference(model).sequenceLogProbs(input(), tf.tensor2d([[1, 2]], undefined, 'int32')),
    ).toThrow();
    expect(model.adaptersEnabled()).toBe(true);
  });

  test('adapterWeights selects lora weights and refuses a model without any', () => {
    const model = new TinyLm({ vocab: 6, dModel: 4, seed: 1, loraRank: 2 });
    expect([...adapterWeights(model.namedWeights()).keys()].sort()).toEqual([
      'lm_head.lora_a',
      'lm_head.lora_b',
    ]);
    expect(() => adapterWeights(new TinyLm({ vocab: 6, dModel: 4, seed: 1 }).namedWeights())).toThrow(
      /no LoRA adapter weights/,
    );
  });
});
