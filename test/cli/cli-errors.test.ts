import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { RECON_BIN, runRecon, type CliResult } from '../support/recon-cli';

const RECON_DATA = resolve(__dirname, '../../../shared/recon-data');
/** A line of a Node stack trace: what no failure the CLI knows may print without --debug. */
const STACK_LINE = /^\s+at /m;

const GRPO =
  'grpo: { steps: 40, promptsPerStep: 2, numGenerations: 2, gradientAccumulation: 1, maxCompletionTokens: 8 }\n';
/** A small valid experiment; each bad config below changes one thing. */
const TINY = `name: tiny
seed: 5
datasets:
  curriculum: { categories: [expected_value], trainItems: 40, testItems: 8 }
policy: { kind: builtin, dModel: 16, nLayers: 1, nHeads: 2, contextLength: 256, backend: wasm }
tokenizer: { vocabSize: 300 }
sft: { steps: 2, batchSize: 2, learningRate: 0.003 }
${GRPO}evaluation: { stages: [grpo], maxNewTokens: 8, heldOut: { items: 4 } }
`;

const BAD_CONFIGS: Array<{ name: string; change: [string, string]; message: string }> = [
  {
    name: 'heads that do not divide dModel',
    change: ['nHeads: 2', 'nHeads: 5'],
    message: "bad.yaml:5: 'policy.nHeads': 5 does not divide policy.dModel 16",
  },
  {
    name: 'a vocabulary smaller than the reserved ids',
    change: ['vocabSize: 300', 'vocabSize: 100'],
    message: "bad.yaml:6: 'tokenizer.vocabSize': 100 is below 264",
  },
  {
    name: 'an unknown curriculum category',
    change: ['[expected_value]', '[expected_value, made_up]'],
    message: "bad.yaml:4: 'datasets.curriculum.categories': unknown category 'made_up'",
  },
  {
    name: 'a reward no service serves',
    change: ['evaluation:', 'rewards: [{ id: no-such-reward }]\nevaluation:'],
    message: "bad.yaml:9: 'rewards.0.id': no reward service serves 'no-such-reward'",
  },
  {
    name: 'a Recon data path that does not exist',
    change: [
      'curriculum: { categories: [expected_value], trainItems: 40, testItems: 8 }',
      'recon: { path: /no/such/dir }',
    ],
    message: "bad.yaml:4: 'datasets.recon.path': /no/such/dir does not exist",
  },
  {
    name: 'a Recon data file that does not exist',
    change: [
      'curriculum: { categories: [expected_value], trainItems: 40, testItems: 8 }',
      `recon: { path: ${JSON.stringify(RECON_DATA)}, sft: missing.csv }`,
    ],
    message: `'datasets.recon.sft': ${RECON_DATA}/missing.csv does not exist`,
  },
  {
    name: 'stages [untrained] with sft and grpo configured (no training would happen)',
    change: ['stages: [grpo]', 'stages: [untrained]'],
    message:
      "'evaluation.stages': [untrained] ends the run once the untrained policy is evaluated, so the configured sft and grpo would never train",
  },
  {
    name: 'stages [sft] with grpo configured (GRPO would be cut off)',
    change: ['stages: [grpo]', 'stages: [sft]'],
    message: 'so the configured grpo would be cut off',
  },
  {
    name: 'stages naming only a stage the config does not train (the run would never end)',
    change: [GRPO, ''],
    message: "'evaluation.stages': [grpo] names no stage this config produces",
  },
  {
    name: 'an SFT batch of 6,144-token sequences larger than the wasm heap',
    change: [
      'contextLength: 256, backend: wasm }\ntokenizer: { vocabSize: 300 }\nsft: { steps: 2, batchSize: 2,',
      'contextLength: 6144, backend: wasm }\ntokenizer: { vocabSize: 300 }\nsft: { steps: 2, batchSize: 64,',
    ],
    message:
      "'sft.batchSize': 64 at policy.contextLength 6144: a pass over 32 sequences of up to 6144 tokens needs about",
  },
];

/** Exit code, a fragment of stderr, and no stack trace. */
function expectClearFailure(result: CliResult, code: number, message: string): void {
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code,
    stderr: expect.stringContaining(message),
  });
  expect(result.stderr).not.toMatch(STACK_LINE);
}

describe('recon CLI failures: one clear line, documented exit codes, nothing recorded', () => {
  let platform: TestPlatform;
  let home: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    platform = await createTestPlatform();
    home = mkdtempSync(join(tmpdir(), 'recon-cli-errors-'));
    env = { DATABASE_URL: platform.databaseUrl, RECON_BLOB_DIR: platform.blobDir, RECON_HOME: home };
    writeFileSync(join(home, 'missing-column.csv'), 'question,answer\n"hi",Option 1: A\n');
    writeFileSync(join(home, 'bad-quotes.csv'), 'prompt,answer\n"abc,Option 1\n');
    writeFileSync(
      join(home, 'bad-row.csv'),
      "prompt,answer\n\"[{'role': 'user', 'content': 'Pick one.'}]\",\n",
    );
    writeFileSync(join(home, 'bad.jsonl'), '{"messages": "not a list", "answer": "Option 1: A"}\n');
  });
  afterAll(async () => {
    await platform?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const recon = (args: string[], extra: Record<string, string | undefined> = {}) =>
    runRecon(args, { ...env, RECON_DEBUG: undefined, ...extra });

  it.each([
    [
      'a CSV without the prompt column',
      ['missing-column.csv'],
      'missing-column.csv: 1 invalid row(s)',
      'line 1: missing column(s) prompt',
    ],
    ['a CSV with unbalanced quotes', ['bad-quotes.csv'], 'bad-quotes.csv: 1 invalid row(s)', 'malformed CSV'],
    [
      'a CSV row without an answer',
      ['bad-row.csv'],
      'bad-row.csv: 1 invalid row(s)',
      'line 2: answer is empty',
    ],
    ['a JSONL row whose messages are not a list', ['bad.jsonl'], 'bad.jsonl: 1 invalid row(s)', 'line 1:'],
  ])('dataset import of %s: exit 1, file and line named', async (_what, [file], message, line) => {
    const result = await recon(['dataset', 'import', join(home, file)]);
    expectClearFailure(result, 1, message);
    expect(result.stderr).toContain(line);
  });

  it.each([
    [
      'dataset import of a file that does not exist',
      ['dataset', 'import', 'no-such.csv'],
      1,
      'no-such.csv: no such file or directory',
    ],
    [
      'dataset tags of a directory that does not exist',
      ['dataset', 'tags', 'no-such-dir'],
      1,
      'no-such-dir: no such file or directory',
    ],
    ['runs against a database that does not answer', ['runs'], 1, 'cannot connect to PostgreSQL at'],
    [
      'token create --role root',
      ['token', 'create', '--name', 'x', '--role', 'root'],
      2,
      "argument 'root' is invalid",
    ],
    [
      'token create --expires-in soon',
      ['token', 'create', '--name', 'x', '--role', 'viewer', '--expires-in', 'soon'],
      2,
      "argument 'soon' is invalid",
    ],
    ['token revoke without its argument', ['token', 'revoke'], 2, "missing required argument 'token-id'"],
    ['token with an unknown subcommand option', ['token', 'list', '--bogus'], 2, "unknown option '--bogus'"],
    [
      'dataset import --split bogus',
      ['dataset', 'import', 'x.csv', '--split', 'bogus'],
      2,
      "argument 'bogus' is invalid",
    ],
    ['dataset import without its argument', ['dataset', 'import'], 2, "missing required argument 'file'"],
    [
      'dataset distill --concurrency 0',
      ['dataset', 'distill', 'abc', '--base-url', 'http://127.0.0.1:1', '--model', 'm', '--concurrency', '0'],
      2,
      '--concurrency must be a positive integer',
    ],
    [
      'run of a config file that does not exist',
      ['run', 'no-such.yaml'],
      2,
      "config 'no-such.yaml': no such file",
    ],
  ])('%s: exit with its code, no stack trace', async (_what, args, code, message) => {
    const unreachable = args[0] === 'runs' ? { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' } : {};
    expectClearFailure(await recon(args as string[], unreachable), code as number, message as string);
  });

  it.each(BAD_CONFIGS)(
    'run of a config with $name: exit 2 naming the key, before anything is recorded',
    async ({ change, message }) => {
      expect(TINY).toContain(change[0]);
      const file = join(home, 'bad.yaml');
      writeFileSync(file, TINY.replace(change[0], change[1]));
      expectClearFailure(await recon(['run', file, '--run-id', 'refused', '--no-progress']), 2, message);
      expect(await platform.eventStore.streamVersion('refused')).toBe(0);
    },
  );

  it('fork of a synthetic demo run: exit 1 saying why, no stack trace', async () => {
    expect(
      (await recon(['demo', '--run-id', 'demo-run', '--sft-steps', '2', '--grpo-steps', '1'])).code,
    ).toBe(0);
    const result = await recon(['fork', 'demo-run', '--from-step', '0']);
    expectClearFailure(result, 1, 'cannot fork run demo-run: recorded config is invalid');
    expect(result.stderr).toContain('a `recon demo` run is synthetic');
  });

  it('prints the stack trace only with --debug or RECON_DEBUG=1', async () => {
    for (const [args, extra] of [
      [['--debug', 'dataset', 'import', 'no-such.csv'], {}],
      [['dataset', 'import', 'no-such.csv', '--debug'], {}],
      [['dataset', 'import', 'no-such.csv'], { RECON_DEBUG: '1' }],
    ] as const) {
      const result = await recon([...args], extra);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('no-such.csv: no such file or directory');
      expect(result.stderr).toMatch(STACK_LINE);
    }
  });

  describe('a run killed mid-GRPO', () => {
    const runId = 'interrupted';
    let lastCheckpoint: string;
    beforeAll(async () => {
      const file = join(home, 'tiny.yaml');
      writeFileSync(file, TINY);
      const child = spawn(
        process.execPath,
        [RECON_BIN, 'run', file, '--run-id', runId, '--no-progress', '--json'],
        {
          env: { ...process.env, ...env },
          stdio: 'ignore',
        },
      );
      const exited = new Promise((done) => child.on('exit', done));
      for (;;) {
        const steps = await platform.eventStore.readStream(runId, { types: ['grpo.step.completed'] });
        if (steps.length >= 2) break;
        if (child.exitCode !== null) throw new Error('the run ended before it could be killed');
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGKILL');
      await exited;
      const saved = await platform.eventStore.readStream(runId, { types: ['checkpoint.saved'] });
      lastCheckpoint = (saved[saved.length - 1].payload as PayloadOf<'checkpoint.saved'>).checkpointHash;
    }, 180_000);

    const blobFile = () => join(platform.blobDir, lastCheckpoint.slice(0, 2), lastCheckpoint.slice(2));

    it('resume with its last checkpoint missing: exit 1 naming the checkpoint, nothing recorded', async () => {
      const before = await platform.eventStore.streamVersion(runId);
      renameSync(blobFile(), `${blobFile()}.away`);
      try {
        const result = await recon(['resume', runId, '--no-progress']);
        expectClearFailure(result, 1, `run ${runId} cannot be resumed: the last GRPO checkpoint`);
        expect(result.stderr).toContain(`blob ${lastCheckpoint} is not in the blob store`);
      } finally {
        renameSync(`${blobFile()}.away`, blobFile());
      }
      expect(await platform.eventStore.streamVersion(runId)).toBe(before);
    });

    it('resume with its last checkpoint corrupted: exit 1 naming the checkpoint, nothing recorded', async () => {
      const before = await platform.eventStore.streamVersion(runId);
      renameSync(blobFile(), `${blobFile()}.away`);
      writeFileSync(blobFile(), 'not the checkpoint');
      try {
        const result = await recon(['resume', runId, '--no-progress']);
        expectClearFailure(result, 1, `run ${runId} cannot be resumed: the last GRPO checkpoint`);
        expect(result.stderr).toContain(`blob ${lastCheckpoint} is corrupted`);
      } finally {
        renameSync(`${blobFile()}.away`, blobFile());
      }
      expect(existsSync(blobFile())).toBe(true);
      expect(await platform.eventStore.streamVersion(runId)).toBe(before);
    });

    it('fork at a step past grpo.steps, or one without a checkpoint: exit 2 before anything is recorded', async () => {
      expectClearFailure(
        await recon(['fork', runId, '--from-step', '40', '--run-id', 'fork-a']),
        2,
        '--from-step 40: must be before grpo.steps (40)',
      );
      expectClearFailure(
        await recon(['fork', runId, '--from-step', '39', '--run-id', 'fork-b']),
        2,
        `--from-step 39: run ${runId} has no GRPO checkpoint at step 39`,
      );
      expectClearFailure(
        await recon([
          'fork',
          runId,
          '--from-step',
          '0',
          '--set',
          'evaluation.stages=[sft]',
          '--run-id',
          'fork-c',
        ]),
        2,
        "evaluation.stages: [sft] leaves out 'grpo'",
      );
      for (const fork of ['fork-a', 'fork-b', 'fork-c'])
        expect(await platform.eventStore.streamVersion(fork)).toBe(0);
    });
  });
});
