import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { pairOutcomes, pairedDifference, type PairedDifference } from '@recon/games';

export interface StageChange {
  from: string;
  to: string;
  change: PairedDifference;
}

/** An evaluated item as recorded, with both graders' verdicts when the run recorded them (v2 events). */
export type ScoredItem = PayloadOf<'evaluation.item.scored'> & {
  verdicts?: { exact: boolean; paper: boolean };
};

/** Which verdict to read: the exact grader's, the paper's, or the suite's headline (`correct`, every version). */
export type Verdict = 'exact' | 'paper' | 'headline';

export const verdictOf = (item: ScoredItem, verdict: Verdict): boolean | undefined =>
  verdict === 'headline' ? item.correct : item.verdicts?.[verdict];

/** Per-item verdicts of one suite at each stage, from the run's `evaluation.item.scored` events. */
function itemsByStage(
  events: readonly RecordedEvent[],
  suite: string,
  verdict: Verdict,
): Map<string, Map<string, boolean>> {
  const byStage = new Map<string, Map<string, boolean>>();
  for (const event of events) {
    if (event.type !== 'evaluation.item.scored') continue;
    const item = event.payload as ScoredItem;
    const correct = verdictOf(item, verdict);
    if (item.suite !== suite || correct === undefined) continue;
    let items = byStage.get(item.stage);
    if (!items) byStage.set(item.stage, (items = new Map()));
    items.set(item.itemId, correct);
  }
  return byStage;
}

/** The accuracy change from each evaluated stage to the next under one grader, on the items both were graded on. */
export function stageChanges(
  events: readonly RecordedEvent[],
  suite: string,
  stages: readonly string[],
  verdict: Verdict = 'headline',
): StageChange[] {
  const byStage = itemsByStage(events, suite, verdict);
  const evaluated = stages.filter((s) => byStage.has(s));
  return evaluated.slice(1).map((to, i) => {
    const from = evaluated[i];
    return { from, to, change: pairedDifference(pairOutcomes(byStage.get(from)!, byStage.get(to)!)) };
  });
}

/**
 * The accuracy change from one run to another at each stage both evaluated (in `stages` order), on the items
 * of the suite both graded there: the same paired interval and McNemar test as the stage-to-stage changes.
 */
export function runChanges(
  first: readonly RecordedEvent[],
  second: readonly RecordedEvent[],
  suite: string,
  stages: readonly string[],
  verdict: Verdict = 'headline',
): Array<{ stage: string; change: PairedDifference }> {
  const a = itemsByStage(first, suite, verdict);
  const b = itemsByStage(second, suite, verdict);
  return stages
    .filter((stage) => a.has(stage) && b.has(stage))
    .map((stage) => ({ stage, change: pairedDifference(pairOutcomes(a.get(stage)!, b.get(stage)!)) }));
}

const points = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;

/** One line per stage change, e.g. `sft → grpo: +2.8 points [−1.8, +7.4], 21 items gained, 14 lost, p = 0.31`. */
export function describeStageChange({ from, to, change }: StageChange): string {
  const p = change.pValue < 0.001 ? 'p < 0.001' : `p = ${change.pValue.toFixed(3)}`;
  const excludesZero = change.low > 0 || change.high < 0;
  return `${from} → ${to}: ${points(change.difference)} points [${points(change.low)}, ${points(change.high)}] on ${change.items} paired items (${change.secondOnly} gained, ${change.firstOnly} lost; exact McNemar ${p}; the interval ${excludesZero ? 'excludes' : 'includes'} zero)`;
}
