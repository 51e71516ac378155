import type { ChanceOutcome, Game, GameState, PlayerId, Turn } from '../core/game';
import { lastMatch, type ParsedMove } from './move-text';

export const IPD_SILENT = 0;
export const IPD_TESTIFY = 1;
/** OpenSpiel's Python iterated prisoner's dilemma: stop probability 0.125 after each round, at most 9,999 rounds. */
const STOP_PROBABILITY = 0.125;
const MAX_ROUNDS = 9999;
const CONTINUE = 0;
const STOP = 1;
/** PAYOFF[mine][theirs]: both silent 5, silent vs testify 0, testify vs silent 10, both testify 1. */
const PAYOFF = [
  [5, 0],
  [10, 1],
];
const MOVE_NAMES = ['<Silent>', '<Testify>'];

class PrisonersDilemmaState implements GameState {
  readonly game = 'prisoners_dilemma';

  constructor(
    /** Each completed round's [player 0's, player 1's] action. */
    readonly rounds: ReadonlyArray<readonly [number, number]>,
    /** A round was just played and the stop draw is pending. */
    readonly awaitingChance: boolean,
    readonly stopped: boolean,
  ) {}

  turn(): Turn {
    if (this.stopped) return { kind: 'terminal' };
    return this.awaitingChance ? { kind: 'chance' } : { kind: 'simultaneous', players: [0, 1] };
  }

  legalActions(player: PlayerId): number[] {
    return this.turn().kind === 'simultaneous' && (player === 0 || player === 1) ? [IPD_SILENT, IPD_TESTIFY] : [];
  }

  /** Continue (0) with probability 0.875, stop (1) with 0.125. */
  chanceOutcomes(): ChanceOutcome[] {
    if (!this.awaitingChance || this.stopped) return [];
    return [
      { action: CONTINUE, probability: 1 - STOP_PROBABILITY },
      { action: STOP, probability: STOP_PROBABILITY },
    ];
  }

  apply(action: number): GameState {
    if (this.turn().kind !== 'chance') throw new Error('prisoners_dilemma: a round is played with applyJoint, not apply');
    if (action !== CONTINUE && action !== STOP) throw new Error(`prisoners_dilemma: chance outcome ${action} is impossible`);
    return new PrisonersDilemmaState(this.rounds, false, action === STOP || this.rounds.length >= MAX_ROUNDS);
  }

  applyJoint(actions: number[]): GameState {
    if (this.turn().kind !== 'simultaneous') throw new Error('prisoners_dilemma: no round is being played');
    if (actions.length !== 2 || actions.some((a) => a !== IPD_SILENT && a !== IPD_TESTIFY))
      throw new Error(`prisoners_dilemma: expected two actions in {0, 1}, got [${actions.join(', ')}]`);
    return new PrisonersDilemmaState([...this.rounds, [actions[0], actions[1]]], true, false);
  }

  /** Running sums of the per-round rewards (so an unfinished match has returns too). */
  returns(): number[] {
    const totals = [0, 0];
    for (const [a, b] of this.rounds) {
      totals[0] += PAYOFF[a][b];
      totals[1] += PAYOFF[b][a];
    }
    return totals;
  }

  actionToString(_player: PlayerId, action: number): string {
    if (this.turn().kind === 'chance') return action === STOP ? 'stop' : 'continue';
    return MOVE_NAMES[action];
  }

  /**
   * States the engine's payoffs in points (GTBench tells the dilemma in prison years, with the same
   * ranking) and the true history of both sides (GTBench mislabels the agent's own moves).
   */
  observationString(player: PlayerId): string {
    const history = this.rounds.map(
      ([a, b], i) => `round ${i + 1}: you ${MOVE_NAMES[player === 0 ? a : b]}, your opponent ${MOVE_NAMES[player === 0 ? b : a]}`,
    );
    const legal = this.legalActions(player).map((a) => MOVE_NAMES[a]);
    return [
      "An iterated prisoner's dilemma. Each round you and your opponent decide at the same time, without seeing the other's decision,",
      'to stay <Silent> or to <Testify>. Points per round: both silent, 5 each; both testify, 1 each;',
      'if you testify while your opponent stays silent you get 10 and your opponent 0 (and the reverse).',
      'After every round the game stops with probability 1/8. Your score is the sum of your points; the higher total wins.',
      history.length > 0 ? `Past rounds: ${history.join('; ')}.` : 'This is the first round.',
      legal.length > 0 ? `Legal moves: ${legal.join(', ')}.` : 'The game is over.',
    ].join('\n');
  }

  toString(): string {
    return `${this.rounds.map(([a, b]) => `${a}${b}`).join(',')}|${this.awaitingChance ? 'c' : ''}${this.stopped ? 'x' : ''}`;
  }
}

export const ITERATED_PRISONERS_DILEMMA: Game = {
  name: 'prisoners_dilemma',
  numPlayers: 2,
  suite: 'gtbench',
  initialState: () => new PrisonersDilemmaState([], false, false),
};

/** The completed rounds of an iterated prisoner's dilemma state, [player 0's, player 1's] action each. */
export function prisonersDilemmaRounds(state: GameState): ReadonlyArray<readonly [number, number]> {
  if (!(state instanceof PrisonersDilemmaState)) throw new Error(`expected a prisoners_dilemma state, got ${state.game}`);
  return state.rounds;
}

/** GTBench's pattern `<Testify>` or `<Silent>` (brackets required), last match. */
export function parsePrisonersDilemmaMove(reply: string, state: GameState, player: PlayerId): ParsedMove {
  const match = lastMatch(reply, /<Testify>|<Silent>/);
  if (!match) return { ok: false, reason: 'no move of the form <Silent> or <Testify>' };
  const action = match[0] === '<Silent>' ? IPD_SILENT : IPD_TESTIFY;
  if (!state.legalActions(player).includes(action)) return { ok: false, reason: 'no round is being played' };
  return { ok: true, action, matched: match[0] };
}
