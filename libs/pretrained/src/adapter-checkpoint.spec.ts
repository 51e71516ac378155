import * as tf from '@tensorflow/tfjs-core';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { selectBackend } from '@recon/policy';
import { encodeAdapterCheckpoint, loadAdapterCheckpoint } from './adapter-checkpoint';
import { checkpointContent } from './checkpoint-dir';
import { loadPretrained } from './load-pretrained';

const QWEN = path.resolve(__dirname, '../fixtures/tiny-qwen2');
const LORA = { rank: 2, alpha: 4, targets: ['q_proj' as const, 'down_proj' as const] };

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('adapter checkpoints of a pretrained policy', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'recon-adapters-'));
  const copy = path.join(dir, 'ckpt');
  cpSync(QWEN, copy, { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function trainedModel() {
    const { model } = loadPretrained(copy, { lora: LORA, seed: 4 });
    const b = model.namedWeights().get('model.layers.1.self_attn.q_proj.lora_B')!;
    tf.tidy(() => b.assign(tf.fill(b.shape, 0.01)));
    return model;
  }

  it('stores the adapters only and loads them back onto the recorded directory, same logits', () => {
    const model = trainedModel();
    const source = { path: copy, ...checkpointContent(copy) };
    const { bytes, hash } = encodeAdapterCheckpoint(model, {
      sourceSha256: source.sha256,
      backend: 'wasm',
      tokenizerHash: source.files.find((f) => f.path === 'tokenizer.json')!.sha256,
    });
    const loaded = loadAdapterCheckpoint(source, bytes, hash);
    expect([...loaded.model.namedWeights().keys()]).toHaveLength(2 * 2 * 2);
    expect(loaded.config).toMatchObject({
      lora: { rank: 2, alpha: 4 },
      pretrained: { sha256: source.sha256 },
    });
    const ids = tf.tensor2d([[5, 9, 30, 41]], undefined, 'int32');
    expect(loaded.model.logits(ids).dataSync()).toEqual(model.logits(ids).dataSync());
    // Smaller than the base weights it needs: the base stays in the directory.
    expect(bytes.byteLength).toBeLessThan(Math.max(...source.files.map((f) => f.bytes)));

    const other = { ...source, sha256: '0'.repeat(64) };
    expect(() => loadAdapterCheckpoint(other, bytes, hash)).toThrow(
      /its adapters belong to base [0-9a-f]{12}…, the run recorded 000000000000…/,
    );
    writeFileSync(path.join(copy, 'generation_config.json'), '{}');
    expect(() => loadAdapterCheckpoint(source, bytes, hash)).toThrow(
      /checkpoint differs from the one the run recorded .*generation_config\.json \(changed\)/,
    );
    tf.dispose(ids);
    model.dispose();
    loaded.model.dispose();
  });
});
