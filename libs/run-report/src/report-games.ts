import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import {
  COMPLETE_INFO_GAMES,
  pooledRate,
  randomPlayEquilibriumRate,
  randomPlayNashOutcomeRate,
  wilson,
} from '@recon/games';
import { num, pct, rateWithInterval, table } from './report-format';
import { nra, ratingsLines, textOpponentLines } from './report-ratings';

/** v2 game events may name the decoding of the agent's replies; absent, they were free-form. */
type Finished = PayloadOf<'game.finished'> & {
  decoding?: string;
  /** v3: a text opponent's policy, and whether its reply ended the match. */
  opponentPolicy?: string;
  fault?: 'opponent';
};
type Move = PayloadOf<'game.move'>;

export type Decoding = 'free' | 'constrained';

const finishedOf = (events: readonly RecordedEvent[], suite: Finished['suite'], decoding: Decoding) =>
  events
    .filter((e) => e.type === 'game.finished')
    .map((e) => e.payload as Finished)
    .filter((f) => f.suite === suite && (f.decoding ?? 'free') === decoding);

/** The decodings a run played its games with, free-form first. */
export function gameDecodings(events: readonly RecordedEvent[]): Decoding[] {
  const found = new Set<string>();
  for (const e of events)
    if (e.type === 'game.finished') found.add((e.payload as Finished).decoding ?? 'free');
  return (['free', 'constrained'] as const).filter((d) => found.has(d));
}

const decodingTitle = (decoding: Decoding) =>
  decoding === 'free' ? '' : " — constrained decoding (replies sampled only among the legal moves' texts)";

const by = <T, K>(list: readonly T[], key: (t: T) => K) => {
  const groups = new Map<K, T[]>();
  for (const t of list) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  return groups;
};

const interval = (successes: number, trials: number) => {
  const p = wilson(successes, trials);
  return `${num(p.rate, 2)} [${num(p.low, 2)}, ${num(p.high, 2)}]`;
};

/**
 * The agent's free-form replies that parsed as a legal move, per stage, for one games suite (every attempt,
 * re-asks included): the first thing to read when a policy's game rates are all zero.
 */
export function validMoveLine(
  events: readonly RecordedEvent[],
  suite: Finished['suite'],
  stages: readonly string[],
  decoding: Decoding = 'free',
): string | null {
  const stageOf = new Map(finishedOf(events, suite, decoding).map((f) => [f.matchId, f.stage]));
  const counts = new Map<string, { legal: number; replies: number }>();
  for (const e of events) {
    if (e.type !== 'game.move') continue;
    const move = e.payload as Move;
    const stage = stageOf.get(move.matchId);
    if (move.actor !== 'agent' || stage === undefined) continue;
    const c = counts.get(stage) ?? { legal: 0, replies: 0 };
    c.replies++;
    if (move.legal) c.legal++;
    counts.set(stage, c);
  }
  const shown = stages.filter((s) => counts.has(s));
  if (shown.length === 0) return null;
  const what =
    decoding === 'free' ? 'Free-form valid-move rate' : 'Valid-move rate under constrained decoding';
  return `${what} (the policy's replies that parse as a legal move, re-asks included; 95% Wilson): ${shown
    .map((s) => {
      const { legal, replies } = counts.get(s)!;
      return `${s} ${rateWithInterval(wilson(legal, replies))} of ${replies} replies`;
    })
    .join('; ')}.`;
}

/** Table 4: NE frequency per game and stage beside random legal play; empty stages collapsed into one line. */
export function completeInfoSection(
  events: readonly RecordedEvent[],
  stages: readonly string[],
  decoding: Decoding = 'free',
): string[] {
  const finished = finishedOf(events, 'complete-information', decoding);
  if (finished.length === 0) return [];
  const byStage = by(finished, (f) => f.stage);
  const shownStages: string[] = [];
  const collapsed: string[] = [];
  for (const s of stages.filter((st) => byStage.has(st))) {
    const list = byStage.get(s)!;
    const invalid = list.filter((f) => f.outcome === 'invalid').length;
    const ne = list.filter((f) => f.outcome === 'equilibrium').length;
    if (invalid === list.length) collapsed.push(`- ${s}: all ${list.length} trials invalid (no valid move)`);
    else if (ne === 0)
      collapsed.push(
        `- ${s}: 0 of ${list.length} trials ended in a pure NE (95% CI ${rateWithInterval(wilson(0, list.length))}; ${invalid} invalid)`,
      );
    else shownStages.push(s);
  }
  const names = [...new Set(finished.map((f) => f.game))];
  const games = [...COMPLETE_INFO_GAMES.filter((g) => names.includes(g.name))];
  const trialsOf = (game: string) =>
    Math.max(...stages.map((s) => (byStage.get(s) ?? []).filter((f) => f.game === game).length));
  const cellOf = (list: readonly Finished[]) => {
    const ne = list.filter((f) => f.outcome === 'equilibrium').length;
    const invalid = list.filter((f) => f.outcome === 'invalid').length;
    return list.length === 0 ? '–' : `${interval(ne, list.length)} (${invalid} inv)`;
  };
  const rows = games.map((g) => [
    g.name,
    String(trialsOf(g.name)),
    pct(randomPlayEquilibriumRate(g)),
    ...shownStages.map((s) => cellOf(byStage.get(s)!.filter((f) => f.game === g.name))),
  ]);
  const weights = games.map((g) => ({ game: g, trials: trialsOf(g.name) }));
  rows.push([
    '**pooled**',
    String(weights.reduce((n, w) => n + w.trials, 0)),
    pct(pooledRate(weights.map((w) => ({ rate: randomPlayEquilibriumRate(w.game), trials: w.trials })))),
    ...shownStages.map((s) => cellOf(byStage.get(s)!)),
  ]);
  const looser = pooledRate(
    weights.map((w) => ({ rate: randomPlayNashOutcomeRate(w.game), trials: w.trials })),
  );
  const differing = games
    .filter((g) => randomPlayNashOutcomeRate(g) > randomPlayEquilibriumRate(g) + 1e-12)
    .map(
      (g) => `${g.name} ${pct(randomPlayNashOutcomeRate(g))} instead of ${pct(randomPlayEquilibriumRate(g))}`,
    );
  const out = [
    `## Table 4 — complete-information games, self-play: fraction of trials ending in a pure Nash equilibrium${decodingTitle(decoding)}`,
    '',
    ...(collapsed.length > 0 ? [...collapsed, ''] : []),
    table(
      [
        'game',
        'trials per stage',
        'random legal play (exact)',
        ...shownStages.map((s) => `${s}: rate [95% CI] (invalid)`),
      ],
      rows,
    ),
    '',
    '- A trial counts when it ends in a pure NE (simultaneous games) or on the subgame-perfect path (sequential games); invalid trials count as misses.',
    `- Random legal play: the exact probability that uniformly random legal choices do so (all action pairs equally likely; 1/2 at every node).` +
      (differing.length > 0
        ? ` Counting any Nash-equilibrium outcome of the sequential games instead, non-credible threats included (${differing.join(', ')}), random play would score ${pct(looser)} pooled; the judge counts only the subgame-perfect path.`
        : ''),
  ];
  const valid = validMoveLine(events, 'complete-information', stages, decoding);
  if (valid) out.push(`- ${valid}`);
  out.push('');
  return out;
}

/** Table 5: GTBench win rates per cell and stage; stages with no win or no normal match collapsed into one line. */
export function gtbenchSection(
  events: readonly RecordedEvent[],
  stages: readonly string[],
  decoding: Decoding = 'free',
): string[] {
  const finished = finishedOf(events, 'gtbench', decoding);
  if (finished.length === 0) return [];
  const byStage = by(finished, (f) => f.stage);
  const shownStages: string[] = [];
  const collapsed: string[] = [];
  for (const s of stages.filter((st) => byStage.has(st))) {
    const list = byStage.get(s)!;
    const abnormal = list.filter((f) => f.status === 'abnormal').length;
    const wins = list.filter((f) => f.status === 'normal' && f.outcome === 'win').length;
    // A text opponent (an LLM, a checkpoint) can end a match with its own invalid reply too.
    const byOpponent = list.filter((f) => f.status === 'abnormal' && f.fault === 'opponent').length;
    if (abnormal === list.length)
      collapsed.push(
        `- ${s}: all ${list.length} matches abnormal (${byOpponent === 0 ? 'no valid move' : `${abnormal - byOpponent} ended by the policy's invalid reply, ${byOpponent} by the opponent's`})`,
      );
    else if (wins === 0)
      collapsed.push(
        `- ${s}: 0 wins in ${list.length} matches (95% CI ${rateWithInterval(wilson(0, list.length))}; ${abnormal} abnormal)`,
      );
    else shownStages.push(s);
  }
  const out = [
    `## Table 5 — GTBench win rate against ${finished.some((f) => f.opponentPolicy !== undefined) ? 'its opponents' : 'fixed opponents'} (abnormal matches in parentheses)${decodingTitle(decoding)}`,
    '',
  ];
  if (collapsed.length > 0) out.push(...collapsed, '');
  if (shownStages.length > 0) {
    const cells = [...by(finished, (f) => `${f.game}\u0000${f.opponent}`).keys()].map((k) =>
      k.split('\u0000'),
    );
    const matchesOf = (list: readonly Finished[]) => list.length;
    const cellOf = (list: readonly Finished[]) => {
      if (list.length === 0) return '–';
      const wins = list.filter((f) => f.status === 'normal' && f.outcome === 'win').length;
      return `${interval(wins, list.length)} (${list.filter((f) => f.status === 'abnormal').length})`;
    };
    out.push(
      table(
        [
          'game',
          'opponent',
          'matches per stage',
          ...shownStages.map((s) => `${s}: win rate [95% CI] (abnormal)`),
        ],
        cells.map(([game, opponent]) => {
          const of = (s: string) => byStage.get(s)!.filter((f) => f.game === game && f.opponent === opponent);
          return [
            game,
            opponent,
            String(Math.max(...shownStages.map((s) => matchesOf(of(s))))),
            ...shownStages.map((s) => cellOf(of(s))),
          ];
        }),
      ),
      '',
    );
    const opponents = [...new Set(finished.map((f) => f.opponent))];
    out.push(
      table(
        [
          'overall vs',
          'matches per stage',
          ...shownStages.map((s) => `${s}: win rate [95% CI] (abnormal); NRA`),
        ],
        opponents.map((o) => {
          const of = (s: string) => byStage.get(s)!.filter((f) => f.opponent === o);
          return [
            o,
            String(Math.max(...shownStages.map((s) => of(s).length))),
            ...shownStages.map((s) => {
              const list = of(s);
              if (list.length === 0) return '–';
              const wins = list.filter((f) => f.status === 'normal' && f.outcome === 'win').length;
              return `${interval(wins, list.length)} (${list.filter((f) => f.status === 'abnormal').length}); ${nra(list)}`;
            }),
          ];
        }),
      ),
      '',
      `- NRA: GTBench's normalised relative advantage with score function (a), (W − L) / (W + D + L) over the normal matches.`,
      '',
    );
  }
  out.push(...textOpponentLines(events, finished));
  out.push(...ratingsLines(events, finished), '');
  const valid = validMoveLine(events, 'gtbench', stages, decoding);
  if (valid) out.push(`- ${valid}`, '');
  return out;
}
