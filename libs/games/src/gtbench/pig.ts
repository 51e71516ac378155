import type { ChanceOutcome, Game, GameState, PlayerId, Turn } from '../core/game';
import { answerText, type ParsedMove } from './move-text';

/** GTBench's parameter: winscore 20. OpenSpiel defaults otherwise: 6-sided die, horizon 1,000 moves, not piglet. */
export const PIG_WIN_SCORE = 20;
const HORIZON = 1000;
const FACES = 6;
export const PIG_ROLL = 0;
export const PIG_STOP = 1;

class PigState implements GameState {
  readonly game = 'pig';

  constructor(
    readonly scores: ReadonlyArray<number>,
    readonly turnTotal: number,
    readonly turnPlayer: PlayerId,
    /** A roll was chosen and the die is pending (a chance node). */
    readonly rolling: boolean,
    /** Player decisions so far (OpenSpiel counts only these toward the horizon). */
    readonly decisions: number,
  ) {}

  private isTerminal(): boolean {
    return this.decisions >= HORIZON || this.scores.some((s) => s >= PIG_WIN_SCORE);
  }

  turn(): Turn {
    if (this.isTerminal()) return { kind: 'terminal' };
    return this.rolling ? { kind: 'chance' } : { kind: 'player', player: this.turnPlayer };
  }

  /** Roll or stop; only stop once banking the turn total would reach the target. */
  legalActions(player: PlayerId): number[] {
    const turn = this.turn();
    if (turn.kind !== 'player' || turn.player !== player) return [];
    return this.scores[player] + this.turnTotal >= PIG_WIN_SCORE ? [PIG_STOP] : [PIG_ROLL, PIG_STOP];
  }

  /** Outcome id = face - 1. */
  chanceOutcomes(): ChanceOutcome[] {
    if (this.turn().kind !== 'chance') return [];
    return Array.from({ length: FACES }, (_, action) => ({ action, probability: 1 / FACES }));
  }

  apply(action: number): GameState {
    const turn = this.turn();
    const next = 1 - this.turnPlayer;
    if (turn.kind === 'chance') {
      if (!Number.isInteger(action) || action < 0 || action >= FACES) throw new Error(`pig: die outcome ${action} is impossible`);
      // A 1 clears the turn total and passes the turn; 2-6 add to it.
      if (action === 0) return new PigState(this.scores, 0, next, false, this.decisions);
      return new PigState(this.scores, this.turnTotal + action + 1, this.turnPlayer, false, this.decisions);
    }
    if (turn.kind !== 'player' || !this.legalActions(turn.player).includes(action)) throw new Error(`pig: action ${action} is not legal`);
    if (action === PIG_ROLL) return new PigState(this.scores, this.turnTotal, this.turnPlayer, true, this.decisions + 1);
    const scores = [...this.scores];
    scores[this.turnPlayer] += this.turnTotal;
    return new PigState(scores, 0, next, false, this.decisions + 1);
  }

  applyJoint(): GameState {
    throw new Error('pig has no simultaneous moves');
  }

  /** Whoever reaches the target wins (+1/-1); at the horizon nobody has, so 0/0. */
  returns(): number[] {
    if (!this.isTerminal()) return [0, 0];
    if (this.scores[0] >= PIG_WIN_SCORE) return [1, -1];
    if (this.scores[1] >= PIG_WIN_SCORE) return [-1, 1];
    return [0, 0];
  }

  actionToString(_player: PlayerId, action: number): string {
    if (this.turn().kind === 'chance') return `rolled ${action + 1}`;
    return action === PIG_ROLL ? '<roll>' : '<stop>';
  }

  /** States the engine's target, 20 (GTBench's prompt says 100). */
  observationString(player: PlayerId): string {
    const legal = this.legalActions(player).map((a) => this.actionToString(player, a));
    return [
      `Pig, a dice game for two players. The first to bank ${PIG_WIN_SCORE} points wins.`,
      'On your turn you may <roll> the die or <stop>. A roll of 1 loses the points gathered this turn and ends your turn;',
      'a roll of 2-6 adds to this turn\'s total. <stop> banks this turn\'s total into your score and ends your turn.',
      `Your score: ${this.scores[player]}. Your opponent's score: ${this.scores[1 - player]}.`,
      `Current turn total: ${this.turnTotal}${this.turnPlayer === player ? '' : " (your opponent's turn)"}.`,
      legal.length > 0 ? `Legal moves: ${legal.join(', ')}.` : 'Not your move.',
    ].join('\n');
  }

  toString(): string {
    return `${this.scores.join(',')}|${this.turnTotal}|${this.turnPlayer}${this.rolling ? 'r' : ''}|${this.decisions}`;
  }
}

export const PIG: Game = {
  name: 'pig',
  numPlayers: 2,
  suite: 'gtbench',
  initialState: () => new PigState([0, 0], 0, 0, false, 0),
};

/**
 * GTBench's pig extraction: the last non-empty line of the answer, lower-cased; whichever of "stop" and
 * "roll" occurs first in it decides. Neither is invalid; a roll when only stop is legal is refused.
 */
export function parsePigMove(reply: string, state: GameState, player: PlayerId): ParsedMove {
  const line = answerText(reply)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .at(-1);
  if (line === undefined) return { ok: false, reason: 'empty answer' };
  const lower = line.toLowerCase();
  const stopAt = lower.indexOf('stop');
  const rollAt = lower.indexOf('roll');
  if (stopAt < 0 && rollAt < 0) return { ok: false, reason: 'the last line names neither roll nor stop' };
  const action = rollAt >= 0 && (stopAt < 0 || rollAt < stopAt) ? PIG_ROLL : PIG_STOP;
  if (!state.legalActions(player).includes(action)) return { ok: false, reason: `${action === PIG_ROLL ? 'roll' : 'stop'} is not legal now` };
  return { ok: true, action, matched: line };
}
