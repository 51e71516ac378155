import type { AnswerBaseline, PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { wilson, type Proportion } from '@recon/games';
import { pct, quote, rateWithInterval, table } from './report-format';
import { describeStageChange, stageChanges, verdictOf, type ScoredItem, type Verdict } from './stage-changes';

type Results = Record<string, number>;

export interface ProblemSuiteContext {
  events: readonly RecordedEvent[];
  stages: readonly string[];
  results: ReadonlyMap<string, Results>;
  baselines: readonly AnswerBaseline[];
  /** The eval dataset the run resolved, and how many items the config asked to evaluate. */
  evalSet?: { name: string; rowCount: number; split: string };
  heldOutItems?: number;
}

export const STRICT_RULE =
  "**strict** (`exactAnswerGrade`): the final answer — the last brace-balanced `\\boxed{}` after the last `</think>` — must give the gold option's text exactly (whitespace runs aside, case kept) and, if it states an option number, the gold's number; yes/no, orderings and pure-Nash lists are compared by meaning. No box, no credit.";
export const PAPER_RULE =
  "**paper's grader** (`paperEvalGrade`, lenient): the first `\\boxed{}` anywhere (else the first `Option N` in the text) is right when it equals the gold or names the same option number, even with another option's text: `\\boxed{Option 1: D}` counts for gold `Option 1: U`.";

const BASELINE_LABEL: Record<AnswerBaseline['name'], string> = {
  'global-majority': 'baseline: global majority answer',
  'category-majority': 'baseline: per-category majority answer',
};

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

/** What was evaluated against what the eval set holds: equal, or the difference explained. */
function evaluatedLine(
  suite: string,
  evaluated: number | undefined,
  ctx: ProblemSuiteContext,
): string | null {
  const set = ctx.evalSet;
  if (!set || evaluated === undefined) return null;
  if ((suite === 'recon-eval') !== (set.split === 'eval')) return null;
  const name = `\`${set.name}\``;
  if (evaluated === set.rowCount) return `Evaluated: all ${set.rowCount} rows of ${name} at each stage.`;
  if (ctx.heldOutItems !== undefined && evaluated === Math.min(ctx.heldOutItems, set.rowCount))
    return `Evaluated: ${evaluated} of the ${set.rowCount} rows of ${name} at each stage — \`evaluation.heldOut.items: ${ctx.heldOutItems}\` takes the first ${evaluated} (generated rows go round-robin over categories, so each category keeps an even share); the other ${set.rowCount - evaluated} rows are not evaluated.`;
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
    out.push(
      `- Baselines answer the same at every stage: the most common gold answer text, counted on ${baselines[0].computedOn}, given on each evaluated item with the number its option has there (the text alone when the item has no such option).` +
        (global?.answers['*'] !== undefined ? ` Global majority: ${quote(global.answers['*'])}.` : ''),
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

/** Accuracy per category and stage, strict / paper's (or the recorded headline for old runs). */
function categoryTable(
  suite: string,
  stages: readonly string[],
  items: Map<string, ScoredItem[]>,
  ctx: ProblemSuiteContext,
): string[] {
  const categories = [...new Set([...items.values()].flat().map((i) => i.category))].sort();
  if (categories.length > 0) {
    const rows = categories.map((c) => {
      const n = Math.max(...stages.map((s) => (items.get(s) ?? []).filter((i) => i.category === c).length));
      return [
        c,
        String(n),
        ...stages.map((s) => {
          const list = (items.get(s) ?? []).filter((i) => i.category === c);
          const [exact, paper] = [proportion(list, 'exact'), proportion(list, 'paper')];
          if (exact && paper) return `${pct(exact.rate)} / ${pct(paper.rate)}`;
          return `${pct(proportion(list, 'headline')?.rate)} (recorded)`;
        }),
      ];
    });
    return [
      'By category (strict / paper\'s grader; "recorded" where only the grader of the time is known):',
      '',
      table(['category', 'items', ...stages], rows),
      '',
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
): AnswerBaseline[] {
  for (const e of evaluations) if ('baselines' in e && e.baselines.length > 0) return e.baselines;
  return [];
}
