import { terminalPaths } from '../complete-info/sequential-games';
import { strategicFormEquilibria } from '../solvers/game-tree';
import { judgeTrial, type CompleteInfoGame } from '../match/complete-info-trial';

/** One way a trial of uniformly random legal play can go, with its probability. */
interface RandomPlayOutcome {
  /** 1-based labels chosen, in decision order. */
  choices: number[];
  probability: number;
}

/** Every outcome of uniformly random legal play: each action pair, or each root-to-leaf path (1/2 per node). */
function randomPlayOutcomes(game: CompleteInfoGame): RandomPlayOutcome[] {
  if (game.kind === 'simultaneous') {
    const [rows, columns] = [game.payoffs.length, game.payoffs[0].length];
    return Array.from({ length: rows * columns }, (_, k) => ({
      choices: [Math.floor(k / columns) + 1, (k % columns) + 1],
      probability: 1 / (rows * columns),
    }));
  }
  return terminalPaths(game.tree).map(({ path }) => ({ choices: path, probability: 2 ** -path.length }));
}

/**
 * The exact probability that a self-play trial of uniformly random legal choices ends in what `judgeTrial`
 * counts as an equilibrium: a pure Nash equilibrium cell (simultaneous games), the subgame-perfect path
 * (sequential games). The chance baseline of table 4: a policy that only ever plays legal moves at random.
 */
export function randomPlayEquilibriumRate(game: CompleteInfoGame): number {
  return randomPlayOutcomes(game)
    .filter(({ choices }) => judgeTrial(game, choices).outcome === 'equilibrium')
    .reduce((sum, { probability }) => sum + probability, 0);
}

/**
 * For sequential games only, the looser reading: the probability that random play reaches the outcome of SOME
 * pure Nash equilibrium of the strategic form, including those held up by non-credible threats (Monopoly:
 * staying out is an equilibrium outcome, not subgame perfect). Not what the judge counts; reported beside it.
 */
export function randomPlayNashOutcomeRate(game: CompleteInfoGame): number {
  if (game.kind === 'simultaneous') return randomPlayEquilibriumRate(game);
  const outcomes = new Set(strategicFormEquilibria(game.tree).outcomes.map((o) => o.path.join('')));
  return randomPlayOutcomes(game)
    .filter(({ choices }) => outcomes.has(choices.join('')))
    .reduce((sum, { probability }) => sum + probability, 0);
}

/** The trial-weighted mean of per-game rates (equal trials per game: the plain mean). */
export function pooledRate(games: ReadonlyArray<{ rate: number; trials: number }>): number {
  const trials = games.reduce((n, g) => n + g.trials, 0);
  return trials === 0 ? 0 : games.reduce((sum, g) => sum + g.rate * g.trials, 0) / trials;
}
