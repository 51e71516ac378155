import type { PayloadOf } from '@recon/contracts';
import { wilson, type Proportion } from './wilson';

type Finished = PayloadOf<'game.finished'>;

export interface WinRateReport {
  game: string;
  opponent: string;
  /** Every scheduled match (the denominator of the headline rate). */
  matches: number;
  wins: number;
  draws: number;
  losses: number;
  abnormal: number;
  /** Headline (games.md §4): wins over all scheduled matches; draws and abnormal matches are non-wins. */
  winRate: Proportion;
  /** GTBench's rate: wins over Normal matches only. */
  normalOnlyWinRate: Proportion;
  /** GTBench NRA with score function (a): win 1, draw 0.5, loss 0 => (W - L) / (W + D + L), Normal matches. */
  nra: { scoreFunction: 'a: win 1, draw 0.5, loss 0'; value: number | null };
  invalidReplies: number;
  retries: number;
}

function sameCell(records: readonly Finished[], what: string): Finished[] {
  if (records.length === 0) throw new Error(`${what}: no matches to score`);
  const { game, opponent } = records[0];
  records.forEach((r, i) => {
    if (r.game !== game || r.opponent !== opponent)
      throw new Error(`${what}: record ${i} (${r.matchId}) is ${r.game} vs ${r.opponent}, expected ${game} vs ${opponent}`);
  });
  return [...records];
}

/** Win-rate table entry of one (game, opponent) cell from its `game.finished` payloads. */
export function winRate(records: readonly Finished[]): WinRateReport {
  const cell = sameCell(records, 'winRate');
  const count = (outcome: Finished['outcome']) => cell.filter((r) => r.status === 'normal' && r.outcome === outcome).length;
  const wins = count('win');
  const draws = count('draw');
  const losses = count('loss');
  const abnormal = cell.filter((r) => r.status === 'abnormal').length;
  const stray = cell.find((r) => r.status === 'normal' && !['win', 'draw', 'loss'].includes(r.outcome));
  if (stray) throw new Error(`winRate: match ${stray.matchId} has outcome '${stray.outcome}', not win/draw/loss`);
  const normal = wins + draws + losses;
  return {
    game: cell[0].game,
    opponent: cell[0].opponent,
    matches: cell.length,
    wins,
    draws,
    losses,
    abnormal,
    winRate: wilson(wins, cell.length),
    normalOnlyWinRate: wilson(wins, normal),
    nra: { scoreFunction: 'a: win 1, draw 0.5, loss 0', value: normal === 0 ? null : (wins - losses) / normal },
    invalidReplies: cell.reduce((n, r) => n + r.invalidCount, 0),
    retries: cell.reduce((n, r) => n + r.retries, 0),
  };
}

export interface EquilibriumReport {
  game: string;
  trials: number;
  /** Headline: any pure NE (simultaneous) or the subgame-perfect path (sequential); invalid trials count as misses. */
  equilibrium: Proportion;
  /** Pareto-optimal among equilibria (equal to the headline for sequential games). */
  paretoOptimalEquilibrium: Proportion;
  invalidTrials: number;
  invalidReplies: number;
  retries: number;
}

/** NE and PO-NE frequency of one complete-information game from its `game.finished` payloads (games.md §2.2). */
export function equilibriumFrequency(records: readonly Finished[]): EquilibriumReport {
  const cell = sameCell(records, 'equilibriumFrequency');
  const bad = cell.find((r) => !['equilibrium', 'non-equilibrium', 'invalid'].includes(r.outcome));
  if (bad) throw new Error(`equilibriumFrequency: match ${bad.matchId} has outcome '${bad.outcome}'`);
  return {
    game: cell[0].game,
    trials: cell.length,
    equilibrium: wilson(cell.filter((r) => r.outcome === 'equilibrium').length, cell.length),
    paretoOptimalEquilibrium: wilson(
      cell.filter((r) => r.outcome === 'equilibrium' && r.paretoOptimalEquilibrium === true).length,
      cell.length,
    ),
    invalidTrials: cell.filter((r) => r.outcome === 'invalid').length,
    invalidReplies: cell.reduce((n, r) => n + r.invalidCount, 0),
    retries: cell.reduce((n, r) => n + r.retries, 0),
  };
}
