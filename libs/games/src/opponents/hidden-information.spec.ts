import type { Game, GameState } from '../core/game';
import { FIRST_SEALED_AUCTION, ITERATED_PRISONERS_DILEMMA, KUHN_BET, KUHN_PASS, KUHN_POKER, LIARS_DICE, IPD_SILENT, IPD_TESTIFY } from '../gtbench';
import { createRng, deriveSeed, sampleOutcome, type Rng } from '../rng';
import { mctsMove, type MctsInformation } from './mcts';
import { randomMove } from './random-opponent';
import { titForTatMove } from './tit-for-tat';

type Chooser = (state: GameState, player: number, rng: Rng) => number;
const play = (game: Game, actions: number[]) => actions.reduce((s, a) => s.apply(a), game.initialState());

function playMatch(game: Game, seats: [Chooser, Chooser], seed: number): number[] {
  const rng = createRng(seed);
  let state = game.initialState();
  for (let turn = state.turn(); turn.kind !== 'terminal'; turn = state.turn()) {
    if (turn.kind === 'chance') state = state.apply(sampleOutcome(state.chanceOutcomes(), rng));
    else if (turn.kind === 'player') state = state.apply(seats[turn.player](state, turn.player, rng));
    else throw new Error(`${game.name}: unexpected simultaneous node`);
  }
  return state.returns();
}

describe('MCTS (UCT c=2, 1000 simulations) against random play in hidden-information games', () => {
  const random: Chooser = (state, player, rng) => randomMove(state, player, rng);
  const cells: Array<[Game, MctsInformation]> = [
    [KUHN_POKER, 'oracle'],
    [KUHN_POKER, 'sampled'],
    [LIARS_DICE, 'oracle'],
    [LIARS_DICE, 'sampled'],
  ];

  it.each(cells.map(([game, information]) => [game.name, information, game] as const))(
    '%s, %s MCTS: a random agent wins fewer than half of 100 seeded matches, seats swapped halfway',
    (_name, information, game) => {
      const mcts: Chooser = (state, player, rng) => mctsMove(state, player, rng, { information });
      let randomWins = 0;
      for (let match = 0; match < 100; match += 1) {
        const randomSeat = match < 50 ? 0 : 1;
        const seats: [Chooser, Chooser] = randomSeat === 0 ? [random, mcts] : [mcts, random];
        const returns = playMatch(game, seats, deriveSeed(7, game.name, information, match));
        if (returns[randomSeat] > returns[1 - randomSeat]) randomWins += 1;
      }
      expect(randomWins / 100).toBeLessThan(0.5);
    },
  );
});

describe('sampled MCTS sees only its information set', () => {
  const decide = (state: GameState, player: number, information: MctsInformation) =>
    mctsMove(state, player, createRng(99), { information, simulations: 300 });

  it('chooses the same move whatever the hidden card, die or valuation, given the same seed', () => {
    const pairs: Array<[GameState, GameState, number]> = [
      [play(KUHN_POKER, [1, 0]), play(KUHN_POKER, [1, 2]), 0], // player 0 holds Q against J or K
      [play(KUHN_POKER, [0, 1, KUHN_PASS]), play(KUHN_POKER, [2, 1, KUHN_PASS]), 1], // player 1 holds Q after a pass
      [play(LIARS_DICE, [0, 2, 4]), play(LIARS_DICE, [5, 2, 4]), 1], // player 1 holds 3, facing a bid from a 1 or a 6
      [play(FIRST_SEALED_AUCTION, [3, 8, 2]), play(FIRST_SEALED_AUCTION, [10, 8, 9]), 1], // unseen first bid and valuation
    ];
    for (const [a, b, player] of pairs) {
      expect(a.observationString(player)).toBe(b.observationString(player));
      expect(decide(a, player, 'sampled')).toBe(decide(b, player, 'sampled'));
    }
  });

  it('while the oracle variant reads the hidden card (GTBench): Q calls a bet against J, folds against K', () => {
    const againstJack = play(KUHN_POKER, [1, 0, KUHN_PASS, KUHN_BET]);
    const againstKing = play(KUHN_POKER, [1, 2, KUHN_PASS, KUHN_BET]);
    expect(decide(againstJack, 0, 'oracle')).toBe(KUHN_BET);
    expect(decide(againstKing, 0, 'oracle')).toBe(KUHN_PASS);
  });

  it('refuses a simultaneous node and a seat that is not to move, naming the game', () => {
    expect(() => mctsMove(ITERATED_PRISONERS_DILEMMA.initialState(), 0, createRng(1))).toThrow(/prisoners_dilemma has simultaneous moves/);
    expect(() => mctsMove(play(KUHN_POKER, [0, 1]), 1, createRng(1))).toThrow(/kuhn_poker: player 1 is not to move/);
  });
});

describe('tit-for-tat', () => {
  it('stays silent first, then repeats what the opponent did in the previous round', () => {
    const start = ITERATED_PRISONERS_DILEMMA.initialState();
    expect(titForTatMove(start, 0)).toBe(IPD_SILENT);
    const afterTestimony = start.applyJoint([IPD_SILENT, IPD_TESTIFY]).apply(0);
    expect(titForTatMove(afterTestimony, 0)).toBe(IPD_TESTIFY);
    expect(titForTatMove(afterTestimony, 1)).toBe(IPD_SILENT);
    const forgiven = afterTestimony.applyJoint([IPD_TESTIFY, IPD_SILENT]).apply(0);
    expect(titForTatMove(forgiven, 0)).toBe(IPD_SILENT);
    expect(titForTatMove(forgiven, 1)).toBe(IPD_TESTIFY);
  });

  it('refuses other games', () => {
    expect(() => titForTatMove(KUHN_POKER.initialState(), 0)).toThrow(/expected a prisoners_dilemma state, got kuhn_poker/);
  });
});
