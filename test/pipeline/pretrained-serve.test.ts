import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import OpenAI from 'openai';
import { selectBackend } from '@recon/policy';
import {
  encodeAdapterCheckpoint,
  HfTokenizer,
  loadAdapterCheckpoint,
  loadPretrained,
  PretrainedChatTokens,
  type PretrainedSource,
} from '@recon/pretrained';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { RECON_BIN, runRecon } from '../support/recon-cli';
import { recordTinyCheckpoint } from '../support/tiny-checkpoint';

const FIXTURE = resolve(__dirname, '../../libs/pretrained/fixtures/tiny-qwen2');
const LORA = { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'up_proj'] };
const IDS = [[3, 40, 77, 12, 9, 150, 2, 31]];
/** bf16 rounding of the merged weights moves these logits by a few hundredths (see merged-export.spec.ts). */
const BF16_TOLERANCE = 0.1;
const FLOAT32_TOLERANCE = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * A pretrained LoRA run (the tiny Qwen2 fixture, 3 SFT steps) served by `recon serve pt:sft` and read with
 * the official openai client (a completion equal to the stage's own greedy continuation, and the same reply
 * streamed), served by a bare adapter-checkpoint hash, and exported with `recon export --merged`, whose
 * directory loads to the logits of base + adapters.
 */
describe('a pretrained run served and exported merged, through the CLI', () => {
  let platform: TestPlatform;
  let home: string;
  let checkpoint: string;
  let env: Record<string, string>;
  let source: PretrainedSource;
  let sftHash: string;
  const servers: ChildProcess[] = [];
  const recon = (args: string[]) => runRecon(args, env, 240_000);

  /** Starts `recon serve <args>`; resolves with its startup output and URL once it listens. */
  function serve(args: string[]): Promise<{ url: string; startup: string }> {
    const server = spawn(process.execPath, [RECON_BIN, 'serve', ...args, '--port', '0'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    servers.push(server);
    return new Promise((done, fail) => {
      let startup = '';
      server.stdout!.on('data', (chunk: Buffer) => {
        startup += chunk.toString();
        const match = /listening on (\S+)[^\n]*\n.*\n/.exec(startup);
        if (match) done({ url: match[1], startup });
      });
      server.stderr!.on('data', (chunk: Buffer) => (startup += chunk.toString()));
      server.once('exit', (code) => fail(new Error(`recon serve exited ${code}: ${startup}`)));
    });
  }

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    await selectBackend('wasm');
    platform = await createTestPlatform();
    home = mkdtempSync(join(tmpdir(), 'recon-pretrained-serve-'));
    checkpoint = join(home, 'tiny-qwen2');
    cpSync(FIXTURE, checkpoint, { recursive: true });
    env = {
      DATABASE_URL: platform.databaseUrl,
      RECON_HOME: home,
      RECON_BLOB_DIR: platform.blobDir,
      RECON_BACKEND: 'wasm',
    };
    writeFileSync(
      join(home, 'pretrained.yaml'),
      `name: pretrained
seed: 7
datasets: { curriculum: { trainItems: 20, testItems: 4 } }
policy: { kind: pretrained, path: ${checkpoint}, backend: wasm, lora: ${JSON.stringify(LORA)} }
sft: { steps: 3, batchSize: 2, learningRate: 0.05 }
evaluation: { stages: [sft], maxNewTokens: 4, heldOut: { items: 1 } }
`,
    );
    const run = await recon([
      'run',
      join(home, 'pretrained.yaml'),
      '--run-id',
      'pt',
      '--no-progress',
      '--json',
    ]);
    if (run.code !== 0) throw new Error(`recon run exited ${run.code}: ${run.stderr}${run.stdout}`);
    const events = await platform.eventStore.readStream('pt');
    source = events.find((e) => e.type === 'policy.source.resolved')!.payload as PretrainedSource;
    const ready = events
      .filter((e) => e.type === 'policy.ready')
      .map((e) => e.payload as { stage: string; checkpointHash: string });
    sftHash = ready.find((r) => r.stage === 'sft')!.checkpointHash;
  }, 300_000);
  afterAll(async () => {
    await Promise.all(
      servers
        .filter((server) => server.exitCode === null)
        .map((server) => {
          const exited = new Promise((done) => server.once('exit', done));
          server.kill('SIGTERM');
          return exited;
        }),
    );
    await platform?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('serves pt:sft: the stage greedy continuation as a completion, and the same reply streamed', async () => {
    const { url, startup } = await serve(['pt:sft', '--model-name', 'tiny-qwen']);
    expect(startup).toContain(`checkpoint ${sftHash} (run pt, sft), LoRA adapters on ${checkpoint}`);
    const client = new OpenAI({ apiKey: 'none', baseURL: url, maxRetries: 0 });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['tiny-qwen']);

    const messages = [
      { role: 'system' as const, content: 'You are an economist.' },
      { role: 'user' as const, content: 'The buyer offers 40. What is the equilibrium?' },
    ];
    const request = { model: 'tiny-qwen', messages, max_tokens: 12, temperature: 0 };
    const completion = await client.chat.completions.create(request);

    // The same stage in this process: its chat template, greedy decoding through the KV cache.
    const { model, spec } = loadAdapterCheckpoint(source, await platform.blobStore.get(sftHash), sftHash);
    const tokenizer = HfTokenizer.load(checkpoint);
    const tokens = new PretrainedChatTokens(tokenizer, spec);
    const stops = [tokens.specialTokens.eos, ...spec.eosTokenIds];
    const greedy = model.greedy(tokens.encodeChat(messages, { addGenerationPrompt: true }), 12, stops);
    model.dispose();
    const ended = stops.includes(greedy.at(-1)!);
    const expected = tokenizer.decode(ended ? greedy.slice(0, -1) : greedy, true).replace(/\uFFFD/g, '');
    expect(completion.choices[0].message.content).toBe(expected);
    expect(completion.choices[0].finish_reason).toBe(ended ? 'stop' : 'length');
    expect(completion.usage!.completion_tokens).toBe(greedy.length);
    expect(completion.system_fingerprint).toBe(sftHash.slice(0, 16));

    const stream = await client.chat.completions.create({ ...request, stream: true });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(expected);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe(completion.choices[0].finish_reason);
  }, 120_000);

  it('serves a bare adapter-checkpoint hash through the run that recorded it, and refuses one no run records', async () => {
    const { startup } = await serve([sftHash]);
    expect(startup).toContain(`checkpoint ${sftHash} (run pt), LoRA adapters on ${checkpoint}`);

    // Adapters of the same base that no run recorded: nothing names the directory to load them onto.
    const { model } = loadPretrained(checkpoint, {
      lora: { ...LORA, targets: ['q_proj', 'v_proj', 'up_proj'] },
    });
    const { bytes } = encodeAdapterCheckpoint(model, {
      sourceSha256: source.sha256,
      backend: 'wasm',
      tokenizerHash: 'x'.repeat(64),
    });
    model.dispose();
    const orphan = await platform.blobStore.put(bytes);
    const refused = await recon(['serve', orphan, '--port', '0']);
    expect(refused.stderr).toMatch(
      new RegExp(
        `checkpoint ${orphan} holds LoRA adapters of a pretrained model .* no run in this log records it`,
      ),
    );
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(refused.code).toBe(1);
  }, 120_000);

  it('exports the merged checkpoint through the CLI: it loads to the logits of base + adapters', async () => {
    const { model } = loadAdapterCheckpoint(source, await platform.blobStore.get(sftHash), sftHash);
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const expected = model.logits(ids).dataSync();
    model.dispose();
    const logitsOf = (dir: string) => {
      const merged = loadPretrained(dir).model;
      const logits = merged.logits(ids).dataSync();
      merged.dispose();
      return logits;
    };

    const out = join(home, 'merged');
    const exported = await recon(['export', 'pt', '--merged', out, '--json']);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({
      stage: 'sft',
      checkpointHash: sftHash,
      merged: { dir: out, dtype: 'source', weightFiles: ['model.safetensors'] },
    });
    expect(readdirSync(out).sort()).toEqual([
      'chat_template.jinja',
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(maxAbsDiff(logitsOf(out), expected)).toBeLessThan(BF16_TOLERANCE);

    const again = await recon(['export', 'pt', '--merged', out]);
    expect(again.stderr).toContain(
      `${out}: directory is not empty; refusing to write over it (--force to write over it)`,
    );
    expect(again.code).toBe(1);
    const both = await recon([
      'export',
      'pt',
      '--merged',
      out,
      '--force',
      '--dtype',
      'float32',
      '--peft',
      join(home, 'peft'),
    ]);
    expect(both.stdout).toMatch(/PEFT adapters to .*; merged weights \(float32 dtype, 1 file\(s\)\)/);
    expect(both.code).toBe(0);
    expect(maxAbsDiff(logitsOf(out), expected)).toBeLessThan(FLOAT32_TOLERANCE);
    tf.dispose(ids);

    const badStage = await recon(['export', 'pt', '--merged', join(home, 'merged-grpo'), '--stage', 'grpo']);
    expect(badStage.stderr).toContain('run pt has no stage grpo (it has untrained, sft)');
    expect(badStage.code).toBe(1);
    const badDtype = await recon(['export', 'pt', '--merged', join(home, 'merged-x'), '--dtype', 'fp8']);
    expect(badDtype.stderr).toContain("expected source or float32, got 'fp8'");
    expect(badDtype.code).not.toBe(0);
    await recordTinyCheckpoint(platform, 'builtin');
    const builtin = await recon(['export', 'builtin', '--merged', join(home, 'merged-builtin')]);
    expect(builtin.stderr).toContain('run builtin has no pretrained policy');
    expect(builtin.code).toBe(2);
    const nothing = await recon(['export', 'pt']);
    expect(nothing.stderr).toContain('nothing to export: give --peft <dir>, --merged <dir> or both');
    expect(nothing.code).toBe(2);

    // Once a file of the recorded directory changed, neither export nor serve loads the adapters onto it.
    appendFileSync(join(checkpoint, 'model-00002-of-00003.safetensors'), Buffer.from([0]));
    const changed = /model-00002-of-00003\.safetensors \(changed\)/;
    const stale = await recon(['export', 'pt', '--merged', join(home, 'merged-stale')]);
    expect(stale.stderr).toMatch(
      /run pt cannot be exported: .*checkpoint differs from the one the run recorded/,
    );
    expect(stale.stderr).toMatch(changed);
    expect(stale.code).toBe(1);
    const served = await recon(['serve', 'pt:sft', '--port', '0']);
    expect(served.stderr).toMatch(
      /run pt cannot be served: .*checkpoint differs from the one the run recorded/,
    );
    expect(served.stderr).toMatch(changed);
    expect(served.stderr).not.toMatch(/\n\s+at /);
    expect(served.code).toBe(1);
  }, 240_000);
});
