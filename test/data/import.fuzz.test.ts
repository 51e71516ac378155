import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DatasetImportError } from '@recon/econ';
import { importDataset } from '../../services/data/src';
import { createTestPlatform, type TestPlatform } from '../support/platform';

const RUNS = 300;
const SKIP_RUNS = 200;
const SEED = 4040;

const csvField = (text: string) => `"${text.replace(/"/g, '""')}"`;
const prompt = (content: string) =>
  `[{'role': 'user', 'content': '${content.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'}]`;
const GOLDS = ['Option 2: defect', 'Yes', 'A, C, B', '[[0, 1], [1, 0]]'];
/** Rows no importer may accept: an answer of no known shape, an empty prompt, a broken literal, no box. */
const BAD_CSV_ROWS = [
  `${csvField(prompt('q'))},${csvField('forty-two')}`,
  `"",Yes`,
  `${csvField("[{'role': 'user', 'content': 'q")},Yes`,
  `${csvField("[{'role': 'assistant', 'content': 'q'}]")},Yes`,
];
const BAD_JSONL_ROWS = [
  '{"messages": [], "answer": "Yes"}',
  '{"prompt": "p", "response": "no think"}',
  '[1, 2]',
  '{"messages": [{"role": "user", "content": "q"}], "answer": "maybe"}',
  '{"messages": ',
];

type Format = 'csv' | 'cot.csv' | 'jsonl';
const rows = fc.array(
  fc.record({ content: fc.string({ minLength: 1, maxLength: 30 }), gold: fc.constantFrom(...GOLDS) }),
  { minLength: 1, maxLength: 5 },
);
const file = fc.record({
  format: fc.constantFrom<Format>('csv', 'cot.csv', 'jsonl'),
  rows,
  badAt: fc.nat(),
  bad: fc.nat(),
  mutation: fc.option(
    fc.tuple(
      fc.nat(),
      fc.oneof(fc.constantFrom('"', ',', '\n', '\\', '{', '</think>'), fc.string({ maxLength: 4 })),
    ),
    { nil: undefined },
  ),
  invalidUtf8: fc.boolean(),
});

type GeneratedFile = typeof file extends fc.Arbitrary<infer T> ? T : never;

function render({ format, rows: generated, badAt, bad, mutation, invalidUtf8 }: GeneratedFile): {
  text: string;
  bytes: Buffer;
} {
  const lines =
    format === 'csv'
      ? generated.map((r) => `${csvField(prompt(r.content))},${csvField(r.gold)}`)
      : format === 'cot.csv'
        ? generated.map((r) => `${csvField(r.content)},${csvField(`think</think>\\boxed{${r.gold}}`)}`)
        : generated.map((r) =>
            JSON.stringify({ messages: [{ role: 'user', content: r.content }], answer: r.gold }),
          );
  const badRows = format === 'jsonl' ? BAD_JSONL_ROWS : BAD_CSV_ROWS;
  lines.splice(badAt % (lines.length + 1), 0, badRows[bad % badRows.length]);
  let text =
    [...(format === 'jsonl' ? [] : [format === 'csv' ? 'prompt,answer' : 'prompt,response']), ...lines].join(
      '\n',
    ) + '\n';
  if (mutation) {
    const at = mutation[0] % text.length;
    text = text.slice(0, at) + mutation[1] + text.slice(at);
  }
  const bytes = Buffer.from(text, 'utf8');
  return {
    text,
    bytes: invalidUtf8
      ? Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from([0xff, 0xc3, 0x0a])])
      : bytes,
  };
}

describe('dataset import against the database under generated malformed files', () => {
  let platform: TestPlatform;
  let dir: string;
  beforeAll(async () => {
    platform = await createTestPlatform();
    dir = mkdtempSync(join(tmpdir(), 'recon-import-fuzz-'));
    // A registered dataset, so "log unchanged" is checked over a non-empty log.
    const valid = join(dir, 'valid_train.csv');
    writeFileSync(valid, `prompt,answer\n${csvField(prompt('Which option?'))},Yes\n`);
    expect((await importDataset({ file: valid }, platform)).registered).toBe(true);
  });
  afterAll(async () => {
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const logDigest = async () =>
    (
      await platform.pool.query<{ digest: string | null }>(
        `SELECT md5(string_agg(hash || payload::text, ',' ORDER BY global_position)) AS digest FROM recon_events`,
      )
    ).rows[0].digest;

  it(`rejects ${RUNS} files holding an invalid row, naming file and line, registering nothing`, async () => {
    const before = await logDigest();
    const head = await platform.eventStore.headPosition();
    const blobs = readdirSync(platform.blobDir, { recursive: true });
    let rejected = 0;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(file, async (generated) => {
        n += 1;
        const path = join(dir, `fuzz-${n}.${generated.format}`);
        writeFileSync(path, render(generated).bytes);
        try {
          await importDataset({ file: path }, platform);
        } catch (error) {
          if (!(error instanceof DatasetImportError))
            throw new Error(`crash importing ${path}: ${String(error)}`);
          expect(error.message.startsWith(`${path}: `)).toBe(true);
          expect(error.message).toMatch(/\n {2}line \d+: \S/);
          for (const row of error.rejected) {
            expect(row.file).toBe(path);
            expect(row.line).toBeGreaterThanOrEqual(1);
          }
          rejected += 1;
          return;
        }
        throw new Error(`${path} holds an invalid row and was imported`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(rejected).toBe(RUNS);
    expect(await platform.eventStore.headPosition()).toBe(head);
    expect(await logDigest()).toBe(before);
    expect(readdirSync(platform.blobDir, { recursive: true })).toEqual(blobs);
    process.stdout.write(
      `dataset import fuzz: ${RUNS} cases, ${rejected} rejected, 0 crashes, log unchanged\n`,
    );
  });

  it(`with skipInvalid, registers the valid rest of ${SKIP_RUNS} files or rejects them leaving the log unchanged`, async () => {
    let registered = 0;
    let rejected = 0;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(file, async (generated) => {
        n += 1;
        const path = join(dir, `skip-${n}.${generated.format}`);
        writeFileSync(path, render(generated).bytes);
        const [head, digest] = [await platform.eventStore.headPosition(), await logDigest()];
        try {
          const result = await importDataset({ file: path, skipInvalid: true }, platform);
          expect(result.rejected.length).toBeGreaterThan(0);
          expect(result.rejected.every((row) => row.file === path && row.line >= 1)).toBe(true);
          expect(result.rowCount).toBeGreaterThan(0);
          expect(await platform.eventStore.headPosition()).toBe(result.registered ? head + 1 : head);
          if (result.registered) registered += 1;
        } catch (error) {
          if (!(error instanceof DatasetImportError))
            throw new Error(`crash importing ${path}: ${String(error)}`);
          expect(error.message.startsWith(`${path}: `)).toBe(true);
          expect(await platform.eventStore.headPosition()).toBe(head);
          expect(await logDigest()).toBe(digest);
          rejected += 1;
        }
      }),
      { seed: SEED + 1, numRuns: SKIP_RUNS },
    );
    expect(registered).toBeGreaterThan(0);
    process.stdout.write(
      `dataset import --skip-invalid fuzz: ${SKIP_RUNS} cases, ${registered} registered, ${rejected} rejected, 0 crashes, log unchanged on rejection\n`,
    );
  });
});
