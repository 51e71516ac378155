/**
 * Grading and reward throughput on the 1,800 train prompts x 8 synthetic completions (correct, partial,
 * wrong, malformed). Prints completions/s for each grader, the ratio to the 100,000/s target, and the ratio
 * to a baseline measured in the same run: one bare `\boxed{...}` regex scan of the same texts.
 *   npm run build && node dist/bench/econ/grading.js [--rounds N]
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { importDataset, paperEvalGrade, reconHierarchicalReward, strictGrade, type ProblemRow } from '@recon/econ';

const TARGET_PER_SECOND = 100_000;
const DATA = join(__dirname, '../../../../shared/recon-data/train_dataset.csv');

function reasoning(seed: number): string {
  const words = ['payoff', 'equilibrium', 'deviation', 'discount', 'δ', 'option', 'utility', '{x}', 'best response'];
  return Array.from({ length: 120 }, (_, i) => words[(seed * 7 + i * 3) % words.length]).join(' ');
}

function wrongAnswer(gold: string): string {
  if (/^Option \d+/i.test(gold)) return gold.replace(/\d+/, (n) => String((Number(n) % 4) + 1));
  if (/^(yes|no)$/i.test(gold)) return /yes/i.test(gold) ? 'No' : 'Yes';
  if (gold.startsWith('[')) return gold === '[]' ? '[[0, 0]]' : '[]';
  return gold.split(', ').reverse().join(', ');
}

/** Eight completions per row: the usual mix a GRPO group produces. */
function completionsFor(gold: string, seed: number): string[] {
  const think = `<think>${reasoning(seed)}</think>`;
  const option = /^Option \d+/i.exec(gold)?.[0] ?? gold;
  return [
    `${think}\n\nThe answer is \\boxed{${gold}}`,
    `${think} \\boxed{${gold}} `,
    `${think} so \\boxed{${option}: a paraphrase of the choice}`,
    `${think} \\boxed{${wrongAnswer(gold)}}`,
    `${think} I would go with ${option}.`,
    `<think>${reasoning(seed + 1)} \\boxed{${gold}}</think> \\boxed{${gold}}`,
    `${reasoning(seed + 2)} no tags at all`,
    `${think}${think} \\boxed{${gold}}`,
  ];
}

function measure(label: string, pairs: ReadonlyArray<readonly [string, string]>, rounds: number, grade: (c: string, g: string) => unknown): number {
  let sink = 0;
  for (const [c, g] of pairs.slice(0, 2000)) sink += grade(c, g) ? 1 : 0; // warm-up
  const start = performance.now();
  for (let round = 0; round < rounds; round += 1) for (const [c, g] of pairs) sink += grade(c, g) ? 1 : 0;
  const seconds = (performance.now() - start) / 1000;
  const perSecond = (pairs.length * rounds) / seconds;
  if (sink < 0) console.log(label); // keeps the results alive
  return perSecond;
}

function main(): void {
  const roundsFlag = process.argv.indexOf('--rounds');
  const rounds = roundsFlag > 0 ? Number(process.argv[roundsFlag + 1]) : 5;
  const rows = importDataset(DATA).rows as ProblemRow[];
  const pairs = rows.flatMap((row, i) => completionsFor(row.gold, i).map((c) => [c, row.gold] as const));
  const meanLength = pairs.reduce((sum, [c]) => sum + c.length, 0) / pairs.length;
  console.log(`econ grading: ${rows.length} train prompts x 8 = ${pairs.length} completions (mean ${meanLength.toFixed(0)} chars), ${rounds} rounds`);

  const boxed = /\\boxed\{([^\n]*?)\}/;
  const scan = (c: string) => boxed.exec(c);
  // The baseline is measured before and after the graders and averaged, so machine noise hits both sides.
  const baselineBefore = measure('baseline', pairs, rounds, scan);
  const results: Array<[string, number]> = [
    ['paper reward (reconHierarchicalReward)', measure('reward', pairs, rounds, reconHierarchicalReward)],
    ['paper eval grader (paperEvalGrade)', measure('eval', pairs, rounds, paperEvalGrade)],
    ['strict task accuracy (strictGrade)', measure('strict', pairs, rounds, strictGrade)],
  ];
  const baseline = (baselineBefore + measure('baseline', pairs, rounds, scan)) / 2;
  console.log(`baseline bare regex scan: ${Math.round(baseline).toLocaleString('en')} completions/s`);
  for (const [label, perSecond] of results) {
    console.log(
      `${label.padEnd(40)} ${Math.round(perSecond).toLocaleString('en').padStart(11)} completions/s  ` +
        `x${(perSecond / TARGET_PER_SECOND).toFixed(2)} of target  x${(perSecond / baseline).toFixed(3)} of baseline`,
    );
  }
}

main();
