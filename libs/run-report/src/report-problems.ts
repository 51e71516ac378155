import type { AnswerBaseline, AnswerBaselineV3, EvaluationSample, PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { wilson, type Proportion } from '@recon/games';
import { pct, quote, rateWithInterval, table } from './report-format';
import { describeStageChange, stageChanges, verdictOf, type ScoredItem, type Verdict } from './stage-changes';

type Results = Record<string, number>;

export interface ProblemSuiteContext {
  events: readonly RecordedEvent[];
  stages: readonly string[];
  results: ReadonlyMap<string, Results>;
  baselines: ReadonlyArray<AnswerBaseline | AnswerBaselineV3>;
  /** The eval datasets the run resolved, and how many items the config asked to evaluate. */
  evalSets: ReadonlyArray<{ name: string; rowCount: number; split: string }>;
  heldOutItems?: number;
  /** Which rows of each eval set were evaluated, as recorded (absent for runs from before it was). */
  samples: readonly EvaluationSample[];
}

/** A baseline's score per category, when recorded (evaluation.completed v3). */
const byCategoryOf = (b: AnswerBaseline | AnswerBaselineV3) => ('byCategory' in b ? b.byCategory : undefined);

export const STRICT_RULE =
  "**strict** (`exactAnswerGrade`): the final answer — the last brace-balanced `\\boxed{}` after the last `</think>` — must give the gold option's text exactly (whitespace runs aside, case kept) and, if it states an option number, the gold's number; yes/no, orderings and pure-Nash lists are compared by meaning. No box, no credit.";
export const PAPER_RULE =
  "**paper's grader** (`paperEvalGrade`, lenient): the first `\\boxed{}` anywhere (else the first `Option N` in the text) is right when it equals the gold or names the same option number, even with another option's text: `\\boxed{Option 1: D}` counts for gold `Option 1: U`.";

const BASELINE_LABEL: Record<AnswerBaselineV3['name'], string> = {
  'global-majority': 'baseline: global majority answer',
  'category-majority': 'baseline: per-category majority answer',
  'first-option': 'baseline: always the first option listed ("Option 1")',
};

/** A trivial baseline scoring at least this on a category makes the category's accuracy say little. */
export const TRIVIAL_BASELINE_FLAG = 0.9;

/** The suite's items per stage, in stage order (one per item id: the last recorded wins). */
function itemsOf(events: readonly RecordedEvent[], suite: string): Map<string, ScoredItem[]> {
  const byStage = new Map<string, Map<string, ScoredItem>>();
  for (const event of events) {
    if (event.type !== 'evaluation.item.scored') continue;
    const item = event.payload as ScoredItem;
    if (item.suite !== suite) continue;
    if (!byStage.has(item.stage)) byStage.set(item.stage, new Map());
    byStage.get(item.stage)!.set(item.itemId, item);
  }
  return new Map([...byStage].map(([stage, items]) => [stage, [...items.values()]]));
}

const proportion = (items: readonly ScoredItem[], verdict: Verdict): Proportion | undefined =>
  items.length > 0 && items.every((i) => verdictOf(i, verdict) !== undefined)
    ? wilson(items.filter((i) => verdictOf(i, verdict)).length, items.length)
    : undefined;

const cell = (p: Proportion | undefined, missing = 'unavailable') =>
  p ? [rateWithInterval(p), `${p.successes} / ${p.trials}`] : [missing, '–'];

/** The suites that have items or results, the paper's order first. */
export function problemSuites(ctx: ProblemSuiteContext): string[] {
  const found = new Set<string>();
  for (const e of ctx.events)
    if (e.type === 'evaluation.item.scored') found.add((e.payload as ScoredItem).suite);
  for (const results of ctx.results.values())
    for (const key of Object.keys(results)) {
      const suite = /^(.+)\.items$/.exec(key)?.[1];
      if (suite && !suite.includes('.')) found.add(suite);
    }
  return [...found].sort((a, b) => (a === 'held-out' ? -1 : b === 'held-out' ? 1 : a.localeCompare(b)));
}

/** The eval set a suite was evaluated on: Recon-Eval for `recon-eval`, the generated test split otherwise. */
function evalSetOf(suite: string, ctx: ProblemSuiteContext) {
  return ctx.evalSets.find((set) => (suite === 'recon-eval') === (set.split === 'eval'));
}

/** What was evaluated against what the eval set holds: all of it, the recorded draw, or the difference explained. */
function evaluatedLine(
  suite: string,
  evaluated: number | undefined,
  ctx: ProblemSuiteContext,
): string | null {
  const sample = ctx.samples.find((s) => s.suite === suite);
  if (sample) {
    const name = `\`${sample.dataset.name}\``;
    if (sample.method === 'all') return `Evaluated: all ${sample.of} rows of ${name} at each stage.`;
    const shares = Object.entries(sample.byCategory)
      .map(([c, n]) => `${c} ${n.sampled}/${n.of}`)
      .join(', ');
    return `Evaluated: ${sample.items} of the ${sample.of} rows of ${name} at each stage, drawn stratified by category (each category its proportional share, rows drawn at random within it) with seed ${sample.seed}, derived from the run's seed; sampled / rows per category: ${shares}. The other ${sample.of - sample.items} rows are not evaluated.`;
  }
  const set = evalSetOf(suite, ctx);
  if (!set || evaluated === undefined) return null;
  const name = `\`${set.name}\``;
  if (evaluated === set.rowCount) return `Evaluated: all ${set.rowCount} rows of ${name} at each stage.`;
  if (ctx.heldOutItems !== undefined && evaluated === Math.min(ctx.heldOutItems, set.rowCount))
    return `Evaluated: ${evaluated} of the ${set.rowCount} rows of ${name} at each stage — \`evaluation.heldOut.items: ${ctx.heldOutItems}\` took the first ${evaluated} rows (recorded before subsets were drawn stratified by category: a file stored in category blocks is evaluated on its first categories only — see the categories below); the other ${set.rowCount - evaluated} rows are not evaluated.`;
  return `Evaluated: ${evaluated} of the ${set.rowCount} rows of ${name} (the run has not evaluated every item it was asked to).`;
}

/** Table 3 for one problem suite: both graders per stage, the baselines, paired changes and categories. */
export function problemSuiteSection(suite: string, ctx: ProblemSuiteContext): string[] {
  const items = itemsOf(ctx.events, suite);
  const stages = ctx.stages.filter(
    (s) => items.has(s) || ctx.results.get(s)?.[`${suite}.items`] !== undefined,
  );
  if (stages.length === 0) return [];
  const out: string[] = [`## Table 3 — ${suite} accuracy by stage`, ''];
  const evaluated = stages.map((s) => items.get(s)?.length ?? ctx.results.get(s)?.[`${suite}.items`]);
  const line = evaluatedLine(
    suite,
    evaluated.find((n) => n !== undefined),
    ctx,
  );
  if (line) out.push(line, '');

  const withVerdicts = stages.filter((s) => proportion(items.get(s) ?? [], 'exact') !== undefined);
  const legacy = stages.filter((s) => !withVerdicts.includes(s));
  const rows: string[][] = stages.map((s) => {
    const list = items.get(s) ?? [];
    const paper =
      proportion(list, 'paper') ?? (suite === 'recon-eval' ? proportion(list, 'headline') : undefined);
    return [s, ...cell(proportion(list, 'exact')), ...cell(paper)];
  });
  const baselines = ctx.baselines.filter((b) => b.suite === suite);
  for (const b of baselines)
    rows.push([
      BASELINE_LABEL[b.name],
      ...cell(wilson(b.correct.exact, b.items)),
      ...cell(wilson(b.correct.paper, b.items)),
    ]);
  const firstResults = stages
    .map((s) => ctx.results.get(s))
    .find((r) => r?.[`${suite}.majorityBaseline`] !== undefined);
  const position = firstResults?.[`${suite}.majorityBaseline`];
  const positionItems = firstResults?.[`${suite}.items`];
  if (position !== undefined && positionItems !== undefined && positionItems > 0)
    rows.push([
      'baseline: always the most common gold position ("Option k", counted on the evaluated golds)',
      'not defined (a position is not an answer text)',
      '–',
      ...cell(wilson(Math.round(position * positionItems), positionItems)),
    ]);
  out.push(
    table(
      [
        'stage / baseline',
        'strict: accuracy [95% CI]',
        'strict: correct / n',
        "paper's grader: accuracy [95% CI]",
        "paper's: correct / n",
      ],
      rows,
    ),
    '',
    `- ${STRICT_RULE}`,
    `- ${PAPER_RULE}`,
    '- 95% Wilson intervals; n is the number of items graded. The headline `' +
      `${suite}.accuracy\` of \`evaluation.completed\` is the ${suite === 'recon-eval' ? "paper's grader (as the paper reports Recon-Eval)" : 'strict grader'}.`,
  );
  if (baselines.length > 0) {
    const perCategory = baselines.find((b) => b.name === 'category-majority');
    const global = baselines.find((b) => b.name === 'global-majority');
    const majority = baselines.find((b) => b.name !== 'first-option');
    if (majority)
      out.push(
        `- Baselines answer the same at every stage: the most common gold answer text, counted on ${majority.computedOn}, given on each evaluated item with the number its option has there (the text alone when the item has no such option).` +
          (global?.answers['*'] !== undefined ? ` Global majority: ${quote(global.answers['*'])}.` : ''),
      );
    if (baselines.some((b) => b.name === 'first-option'))
      out.push(
        '- "Always Option 1" answers the first option each prompt lists, with its text (nothing where a prompt lists no options).',
      );
    if (perCategory && Object.keys(perCategory.answers).length > 0)
      out.push(
        `- Per-category majority answers: ${Object.entries(perCategory.answers)
          .map(([c, a]) => `${c} → ${quote(a)}`)
          .join('; ')}.`,
      );
  } else
    out.push(
      '- Majority-answer baselines: unavailable (none recorded for this run: no training split, or events from before they were kept).',
    );
  if (legacy.length > 0) {
    out.push(
      `- Strict grade unavailable for ${legacy.join(', ')}: those evaluation events were recorded before both graders' verdicts were kept (\`evaluation.item.scored\` v1).` +
        ` Recorded accuracy then (${suite === 'recon-eval' ? "paper's grader" : 'option-number grader `strictGrade`, which credits the option number alone'}): ` +
        legacy
          .map((s) => {
            const r = ctx.results.get(s);
            const list = items.get(s) ?? [];
            const recorded =
              proportion(list, 'headline') ??
              (r?.[`${suite}.correct`] !== undefined && r?.[`${suite}.items`] !== undefined
                ? wilson(r[`${suite}.correct`], r[`${suite}.items`])
                : undefined);
            return recorded
              ? `${s} ${rateWithInterval(recorded)}, n = ${recorded.trials}`
              : `${s} ${pct(r?.[`${suite}.accuracy`])}`;
          })
          .join('; ') +
        '.',
    );
  }
  out.push('');

  const changes = (['exact', 'paper'] as const).map((v) => ({
    v,
    list: stageChanges(ctx.events, suite, stages, v),
  }));
  if (changes.some((c) => c.list.length > 0)) {
    out.push(
      'Change between stages on the same items (95% Newcombe interval for paired proportions, exact McNemar test):',
      '',
    );
    for (const { v, list } of changes)
      for (const c of list)
        out.push(`- ${v === 'exact' ? 'strict' : "paper's grader"}: ${describeStageChange(c)}`);
    out.push('');
  } else {
    const headline = stageChanges(ctx.events, suite, stages, 'headline');
    if (headline.length > 0)
      out.push(
        'Change between stages on the same items (recorded grader; 95% Newcombe interval for paired proportions):',
        '',
        ...headline.map((c) => `- ${describeStageChange(c)}`),
        '',
      );
  }
  out.push(...categoryTable(suite, stages, items, ctx));
  return out;
}

/** The option number a gold names (`Option 3: …` → 3), or null. */
const goldPosition = (gold: string): number | null => {
  const m = /^\s*Option\s+(\d+)/i.exec(gold);
  return m ? Number(m[1]) : null;
};

/** `40.0% / 45.0%` of a recorded baseline score, and its larger rate. */
function scoreCell(score: { items: number; correct: { exact: number; paper: number } } | undefined) {
  if (!score || score.items === 0) return { text: '–', best: 0 };
  const [exact, paper] = [score.correct.exact / score.items, score.correct.paper / score.items];
  return { text: `${pct(exact)} / ${pct(paper)}`, best: Math.max(exact, paper) };
}

/**
 * Accuracy per category and stage, strict / paper's with the 95% Wilson interval of the suite's headline
 * grader (or the recorded headline for old runs), beside the category's trivial baselines: its majority
 * answer, always Option 1, and the most common gold position; a category where one of them reaches 90% is
 * flagged (a model can look good there by guessing).
 */
function categoryTable(
  suite: string,
  stages: readonly string[],
  items: Map<string, ScoredItem[]>,
  ctx: ProblemSuiteContext,
): string[] {
  const categories = [...new Set([...items.values()].flat().map((i) => i.category))].sort();
  if (categories.length > 0) {
    const headline: Verdict = suite === 'recon-eval' ? 'paper' : 'exact';
    const baselines = ctx.baselines.filter((b) => b.suite === suite);
    const recordedByCategory = (name: AnswerBaselineV3['name']) => {
      const baseline = baselines.find((b) => b.name === name);
      return baseline ? byCategoryOf(baseline) : undefined;
    };
    const majority = recordedByCategory('category-majority');
    const firstOption = recordedByCategory('first-option');
    const flagged: string[] = [];
    const rows = categories.map((c) => {
      const perStage = stages.map((s) => (items.get(s) ?? []).filter((i) => i.category === c));
      const widest = perStage.reduce((a, b) => (b.length > a.length ? b : a), [] as ScoredItem[]);
      const n = widest.length;
      const cells = perStage.map((list) => {
        const [exact, paper] = [proportion(list, 'exact'), proportion(list, 'paper')];
        const main = proportion(list, headline);
        if (exact && paper && main)
          return `${pct(exact.rate)} / ${pct(paper.rate)} [${(main.low * 100).toFixed(1)}, ${(main.high * 100).toFixed(1)}]`;
        const recorded = proportion(list, 'headline');
        return recorded ? `${rateWithInterval(recorded)} (recorded)` : '–';
      });
      const majorityCell = scoreCell(majority?.[c]);
      // Always Option 1: recorded with both graders, or for older runs the paper's grader from the golds.
      const positions = widest.map((i) => goldPosition(i.gold));
      const recordedFirst = firstOption?.[c];
      const firstCell = recordedFirst
        ? scoreCell(recordedFirst)
        : n > 0
          ? {
              text: `– / ${pct(positions.filter((p) => p === 1).length / n)}`,
              best: positions.filter((p) => p === 1).length / n,
            }
          : { text: '–', best: 0 };
      const counts = new Map<number, number>();
      for (const p of positions) if (p !== null) counts.set(p, (counts.get(p) ?? 0) + 1);
      const [position, count] = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0] ?? [null, 0];
      const positionRate = n > 0 ? count / n : 0;
      // The best of each named constant answer (always Option 1 is both a recorded baseline and a position).
      const trivialRates = new Map<string, number>();
      for (const [name, rate] of [
        ['majority answer', majorityCell.best],
        ['always Option 1', firstCell.best],
        [`always Option ${position}`, positionRate],
      ] as const)
        if (rate >= TRIVIAL_BASELINE_FLAG)
          trivialRates.set(name, Math.max(rate, trivialRates.get(name) ?? 0));
      const trivial = [...trivialRates];
      if (trivial.length > 0) flagged.push(c);
      return [
        c,
        String(n),
        ...cells,
        majorityCell.text,
        firstCell.text,
        position === null ? '–' : `Option ${position}: ${pct(positionRate)}`,
        trivial.length > 0 ? `⚠ ${trivial.map(([name, rate]) => `${name} ${pct(rate)}`).join('; ')}` : '',
      ];
    });
    const grader = headline === 'paper' ? "paper's grader" : 'strict grader';
    return [
      `By category (strict / paper's grader, [95% Wilson interval of the ${grader}]; "recorded" where only the grader of the time is known), beside each category's trivial baselines (strict / paper's; the most common gold position is counted on the evaluated golds, paper's grader):`,
      '',
      table(
        [
          'category',
          'items',
          ...stages,
          'baseline: category majority answer',
          'baseline: always Option 1',
          'baseline: most common gold position',
          `trivial baseline ≥ ${TRIVIAL_BASELINE_FLAG * 100}%`,
        ],
        rows,
      ),
      '',
      ...(flagged.length > 0
        ? [
            `⚠ ${flagged.length} of ${categories.length} categories (${flagged.join(', ')}) are answered at least ${TRIVIAL_BASELINE_FLAG * 100}% right by a constant answer: their accuracy says little about reasoning.`,
            '',
          ]
        : []),
    ];
  }
  const fromResults = [...new Set(stages.flatMap((s) => Object.keys(ctx.results.get(s) ?? {})))]
    .map((k) => new RegExp(`^${suite}\\.category\\.(.+)\\.accuracy$`).exec(k)?.[1])
    .filter((c): c is string => !!c)
    .sort();
  if (fromResults.length === 0) return [];
  return [
    'By category (recorded grader):',
    '',
    table(
      ['category', 'items', ...stages],
      fromResults.map((c) => [
        c,
        String(ctx.results.get(stages[0])?.[`${suite}.category.${c}.items`] ?? '–'),
        ...stages.map((s) => pct(ctx.results.get(s)?.[`${suite}.category.${c}.accuracy`])),
      ]),
    ),
    '',
  ];
}

/** The answer baselines recorded with the evaluations (the same at every stage: the first stage's are taken). */
export function recordedBaselines(
  evaluations: ReadonlyArray<PayloadOf<'evaluation.completed'>>,
): Array<AnswerBaseline | AnswerBaselineV3> {
  for (const e of evaluations) if ('baselines' in e && e.baselines.length > 0) return e.baselines;
  return [];
}
