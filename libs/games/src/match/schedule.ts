import { deriveSeed } from '../rng/rng';

export interface ScheduledMatch {
  index: number;
  matchId: string;
  /** Derived from the run seed; drives chance outcomes and the agent's sampler for this match. */
  seed: number;
  /** Seat of the evaluated agent: it moves first (seat 0) in the first half, second in the rest. */
  agentSeat: number;
}

/**
 * The matches of one (run, game, opponent) cell: ids, per-match seeds and seats, swapped at count/2
 * (games.md §4: always 5 and 5 of 10; the first half gets the extra match when count is odd).
 * Seeds come from the run seed and `seedScope` (default: the run id), never from a run id that a replay
 * or a fork changes: pass a scope such as the stage so a re-execution under another id plays the same matches.
 */
export function scheduleMatches(
  runId: string,
  runSeed: number,
  game: string,
  opponent: string,
  count: number,
  seedScope: string = runId,
): ScheduledMatch[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`match count must be a positive integer, got ${count}`);
  const firstHalf = Math.ceil(count / 2);
  return Array.from({ length: count }, (_, index) => {
    const matchId = `${runId}/${game}/${opponent}/${index}`;
    const seed = deriveSeed(runSeed, `${seedScope}/${game}/${opponent}/${index}`);
    return { index, matchId, seed, agentSeat: index < firstHalf ? 0 : 1 };
  });
}
