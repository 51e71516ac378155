import { equilibriumFrequency, winRate, wilson, type GameFinishedPayload } from '@recon/games';

/** One graded benchmark item, as the headline numbers need it. */
export interface GradedItem {
  category: string;
  gold: string;
  correct: boolean;
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
