import type { AnswerBaselineV3 } from '@recon/contracts';
import {
  firstOptionText,
  majorityAnswerText,
  majorityAnswerTextByCategory,
  scoreBaseline,
  scoreBaselineByCategory,
  type BaselineItem,
} from '@recon/econ';
import { equilibriumFrequency, winRate, wilson, type GameFinishedPayload } from '@recon/games';

/** One graded benchmark item, as the headline numbers need it. */
export interface GradedItem {
  category: string;
  gold: string;
  /** The suite's headline grader. */
  correct: boolean;
  /** Both graders' verdicts, when the item was graded by both. */
  verdicts?: { exact: boolean; paper: boolean };
}

/**
 * The answer baselines of a problem suite: the most common gold answer text overall and per category, counted
 * on `train` (the run's training problems) and answered on every evaluated item (with the number of the option
 * that has that text there), and the first option each prompt lists; each graded by the exact grader and the
 * paper's, overall and per category. Only training rows of the evaluated categories count (training may hold
 * other kinds of items, e.g. game-move practice), unless none of them is evaluated.
 */
export function problemSuiteBaselines(
  suite: string,
  train: { name: string; split: string; items: ReadonlyArray<Omit<BaselineItem, 'prompt'>> },
  evaluated: readonly BaselineItem[],
): AnswerBaselineV3[] {
  const evaluatedCategories = new Set(evaluated.map((i) => i.category));
  const relevant = train.items.filter((i) => evaluatedCategories.has(i.category));
  const counted = relevant.length > 0 ? relevant : train.items;
  const overall = majorityAnswerText(counted);
  const byCategory = majorityAnswerTextByCategory(counted);
  const computedOn =
    counted.length === train.items.length
      ? `\`${train.name}\` (${train.items.length} rows, ${train.split} split)`
      : `\`${train.name}\` (its ${counted.length} rows in the evaluated categories, of ${train.items.length}; ${train.split} split)`;
  const scored = (answerFor: (item: BaselineItem) => string | null) => ({
    ...scoreBaseline(evaluated, answerFor),
    byCategory: scoreBaselineByCategory(evaluated, answerFor),
  });
  return [
    {
      suite,
      name: 'global-majority',
      computedOn,
      answers: overall === null ? {} : { '*': overall },
      ...scored(() => overall),
    },
    {
      suite,
      name: 'category-majority',
      computedOn,
      answers: Object.fromEntries(
        [...new Set(evaluated.map((i) => i.category))]
          .filter((c) => byCategory.has(c))
          .sort()
          .map((c) => [c, byCategory.get(c)!]),
      ),
      ...scored((item) => byCategory.get(item.category) ?? null),
    },
    {
      suite,
      name: 'first-option',
      computedOn: 'the evaluated prompts (the first option each lists)',
      answers: {},
      ...scored((item) => firstOptionText(item.prompt)),
    },
  ];
}

/**
 * The headline numbers of a problem suite (recon-eval, held-out): accuracy with its 95% Wilson interval,
 * the majority-gold baseline, and accuracy per category, keyed `<suite>.…` as `evaluation.completed` holds them.
 */
export function problemSuiteResults(suite: string, items: readonly GradedItem[]): Record<string, number> {
  const perCategory = new Map<string, { correct: number; total: number }>();
  const golds = new Map<string, number>();
  let correct = 0;
  for (const item of items) {
    const cell = perCategory.get(item.category) ?? { correct: 0, total: 0 };
    cell.total++;
    if (item.correct) {
      cell.correct++;
      correct++;
    }
    perCategory.set(item.category, cell);
    const goldKey = item.gold.split(':')[0].trim();
    golds.set(goldKey, (golds.get(goldKey) ?? 0) + 1);
  }
  const interval = wilson(correct, items.length);
  const results: Record<string, number> = {
    [`${suite}.items`]: items.length,
    [`${suite}.correct`]: correct,
    [`${suite}.accuracy`]: correct / Math.max(items.length, 1),
    [`${suite}.accuracy.low`]: interval.low,
    [`${suite}.accuracy.high`]: interval.high,
    [`${suite}.majorityBaseline`]: Math.max(0, ...golds.values()) / Math.max(items.length, 1),
  };
  if (items.length > 0 && items.every((i) => i.verdicts)) {
    results[`${suite}.exact.correct`] = items.filter((i) => i.verdicts!.exact).length;
    results[`${suite}.paper.correct`] = items.filter((i) => i.verdicts!.paper).length;
  }
  for (const [category, cell] of perCategory) {
    results[`${suite}.category.${category}.accuracy`] = cell.correct / cell.total;
    results[`${suite}.category.${category}.items`] = cell.total;
  }
  return results;
}

/** Complete-information self-play: NE frequency per game and pooled over every trial. */
export function completeInfoResults(
  games: ReadonlyArray<{ game: string; finished: readonly GameFinishedPayload[] }>,
): Record<string, number> {
  const results: Record<string, number> = {};
  const all = games.flatMap((g) => g.finished);
  for (const { game, finished } of games) {
    const report = equilibriumFrequency(finished);
    results[`complete-info.${game}.ne`] = report.equilibrium.rate;
    results[`complete-info.${game}.trials`] = report.trials;
    results[`complete-info.${game}.invalid`] = report.invalidTrials;
  }
  const ne = wilson(all.filter((f) => f.outcome === 'equilibrium').length, all.length);
  results['complete-info.overall.ne'] = ne.rate;
  results['complete-info.overall.ne.low'] = ne.low;
  results['complete-info.overall.ne.high'] = ne.high;
  results['complete-info.overall.paretoNe'] =
    all.filter((f) => f.paretoOptimalEquilibrium).length / Math.max(all.length, 1);
  results['complete-info.overall.trials'] = all.length;
  results['complete-info.overall.invalid'] = all.filter((f) => f.outcome === 'invalid').length;
  return results;
}

/** GTBench: win rate, draws, abnormal endings and NRA per (game, opponent), and overall per opponent. */
export function gtbenchResults(
  cells: ReadonlyArray<{ game: string; opponent: string; finished: readonly GameFinishedPayload[] }>,
): Record<string, number> {
  const results: Record<string, number> = {};
  const byOpponent = new Map<string, GameFinishedPayload[]>();
  for (const { game, opponent, finished } of cells) {
    const report = winRate(finished);
    const key = `gtbench.${game}.${opponent}`;
    results[`${key}.winRate`] = report.winRate.rate;
    results[`${key}.draws`] = report.draws;
    results[`${key}.abnormal`] = report.abnormal;
    results[`${key}.matches`] = report.matches;
    if (report.nra.value !== null) results[`${key}.nra`] = report.nra.value;
    byOpponent.set(opponent, [...(byOpponent.get(opponent) ?? []), ...finished]);
  }
  for (const [name, finished] of byOpponent) {
    const wins = wilson(finished.filter((f) => f.outcome === 'win').length, finished.length);
    results[`gtbench.overall.${name}.winRate`] = wins.rate;
    results[`gtbench.overall.${name}.winRate.low`] = wins.low;
    results[`gtbench.overall.${name}.winRate.high`] = wins.high;
    results[`gtbench.overall.${name}.abnormal`] = finished.filter((f) => f.status === 'abnormal').length;
    results[`gtbench.overall.${name}.matches`] = finished.length;
  }
  return results;
}
