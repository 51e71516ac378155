/**
 * Games benchmark (one core): per GTBench game, random-vs-random matches/s and MCTS simulations/s (GTBench's
 * opponent: UCT c=2, one random rollout per leaf), for the oracle search (the true state, as GTBench) and,
 * in the hidden-information games, the sampled search (a fresh draw from the seat's information set per
 * simulation). The ratio puts an oracle simulation (selection, expansion, rollout, backup) against the
 * random playout inside it, measured in the same run. MCTS searches from the first decision of a match;
 * the prisoner's dilemma has simultaneous rounds only, so it has no MCTS (GTBench plays tit-for-tat there).
 * Run: npm run bench:games
 */
import { performance } from 'node:perf_hooks';
import {
  GTBENCH_GAMES,
  createRng,
  mctsMove,
  randomMove,
  sampleOutcome,
  samplesInformationSet,
  type Game,
  type GameState,
  type MctsInformation,
  type Rng,
} from '@recon/games';

function randomMatch(game: Game, rng: Rng): void {
  let state: GameState = game.initialState();
  for (let turn = state.turn(); turn.kind !== 'terminal'; turn = state.turn()) {
    if (turn.kind === 'chance') state = state.apply(sampleOutcome(state.chanceOutcomes(), rng));
    else if (turn.kind === 'player') state = state.apply(randomMove(state, turn.player, rng));
    else {
      const current = state;
      state = state.applyJoint(turn.players.map((p) => randomMove(current, p, rng)));
    }
  }
}

/** The first sequential decision of a match, or null when the game's decisions are simultaneous. */
function firstDecision(game: Game, rng: Rng): { state: GameState; player: number } | null {
  let state = game.initialState();
  for (let turn = state.turn(); ; turn = state.turn()) {
    if (turn.kind === 'player') return { state, player: turn.player };
    if (turn.kind === 'chance') state = state.apply(sampleOutcome(state.chanceOutcomes(), rng));
    else return null;
  }
}

const rate = (count: number, body: () => void) => {
  const start = performance.now();
  body();
  return count / ((performance.now() - start) / 1000);
};

const MATCHES = 500;
const SEARCHES = 5;
const SIMULATIONS = 1000;

function simulationsPerSecond(decision: { state: GameState; player: number }, rng: Rng, information: MctsInformation): number {
  return rate(SEARCHES * SIMULATIONS, () => {
    for (let i = 0; i < SEARCHES; i += 1) mctsMove(decision.state, decision.player, rng, { simulations: SIMULATIONS, information });
  });
}

const cell = (value: number, width: number, digits = 0) => (Number.isNaN(value) ? 'n/a' : value.toFixed(digits)).padStart(width);

process.stdout.write(`games benchmark (node ${process.version}, one core)\n`);
process.stdout.write('game                   random matches/s   MCTS sims/s (oracle)   MCTS sims/s (sampled)   simulations per random match\n');
for (const game of GTBENCH_GAMES) {
  const rng = createRng(1);
  const matches = rate(MATCHES, () => {
    for (let i = 0; i < MATCHES; i += 1) randomMatch(game, rng);
  });
  const decision = firstDecision(game, rng);
  const oracle = decision ? simulationsPerSecond(decision, rng, 'oracle') : Number.NaN;
  const sampled = decision && samplesInformationSet(decision.state) ? simulationsPerSecond(decision, rng, 'sampled') : Number.NaN;
  process.stdout.write(
    `${game.name.padEnd(22)} ${cell(matches, 16)}   ${cell(oracle, 20)}   ${cell(sampled, 21)}   ${cell(oracle / matches, 28, 2)}\n`,
  );
}
