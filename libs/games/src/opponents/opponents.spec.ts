import type { Game, GameState } from '../core/game';
import { CONNECT4 } from '../gtbench/connect4';
import { NIM, nimAction } from '../gtbench/nim';
import { TICTACTOE } from '../gtbench/tictactoe';
import { createRng, deriveSeed, type Rng } from '../rng';
import { mctsMove } from './mcts';
import { Minimax } from './minimax';
import { randomMove } from './random-opponent';

type Chooser = (state: GameState, player: number, rng: Rng) => number;

function playMatch(game: Game, seats: [Chooser, Chooser], seed: number): number[] {
  const rng = createRng(seed);
  let state = game.initialState();
  for (let turn = state.turn(); turn.kind !== 'terminal'; turn = state.turn()) {
    if (turn.kind !== 'player') throw new Error('no chance in these games');
    state = state.apply(seats[turn.player](state, turn.player, rng));
  }
  return state.returns();
}

describe('minimax', () => {
  it('finds tictactoe a draw under perfect play, from every opening move too', () => {
    const solver = new Minimax();
    const start = TICTACTOE.initialState();
    expect(solver.value(start)).toBe(0);
    for (const opening of start.legalActions(0)) expect(solver.value(start.apply(opening))).toBe(0);
  });

  it('finds nim 1,3,5,7 (misère) lost for the first mover, with the winning replies games.md lists', () => {
    const solver = new Minimax();
    const start = NIM.initialState();
    expect(solver.value(start)).toBe(-1);
    start.legalActions(0).forEach((opening) => expect(solver.value(start.apply(opening))).toBe(-1));
    const winningReplies = (opening: number) => {
      const state = start.apply(opening);
      return state.legalActions(1).filter((reply) => solver.value(state.apply(reply)) === -1);
    };
    expect(winningReplies(nimAction(4, 7))).toEqual([nimAction(3, 3)]);
    expect(winningReplies(nimAction(2, 2))).toEqual([nimAction(4, 2)]);
    expect(winningReplies(nimAction(1, 1)).sort((a, b) => a - b)).toEqual([nimAction(2, 1), nimAction(3, 1), nimAction(4, 1)]);
  });
});

describe('MCTS (UCT c=2, 1000 simulations, random rollouts) against random play', () => {
  const mcts: Chooser = (state, player, rng) => mctsMove(state, player, rng);
  const random: Chooser = (state, player, rng) => randomMove(state, player, rng);

  it.each([TICTACTOE, CONNECT4])('wins at least 90 of 100 seeded $name matches, seats swapped halfway', (game) => {
    let wins = 0;
    for (let match = 0; match < 100; match += 1) {
      const mctsSeat = match < 50 ? 0 : 1;
      const seats: [Chooser, Chooser] = mctsSeat === 0 ? [mcts, random] : [random, mcts];
      const returns = playMatch(game, seats, deriveSeed(7, game.name, match));
      if (returns[mctsSeat] > returns[1 - mctsSeat]) wins += 1;
    }
    expect(wins).toBeGreaterThanOrEqual(90);
  });
});
