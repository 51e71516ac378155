import type { ChanceOutcome, Game, GameState, PlayerId, Turn } from '../core/game';
import { lastMatch, type ParsedMove } from './move-text';

const START = [1, 3, 5, 7] as const;

/** Action id = (take - 1) * 4 + (pile - 1), piles and takes 1-based. */
export const nimAction = (pile: number, take: number) => (take - 1) * 4 + (pile - 1);

class NimState implements GameState {
  readonly game = 'nim';

  constructor(
    readonly piles: ReadonlyArray<number>,
    readonly toMove: PlayerId,
    /** The player who took the last object (and so lost, misère), once the piles are empty. */
    readonly lastMover: PlayerId | null = null,
  ) {}

  turn(): Turn {
    return this.piles.every((p) => p === 0) ? { kind: 'terminal' } : { kind: 'player', player: this.toMove };
  }

  legalActions(): number[] {
    if (this.turn().kind === 'terminal') return [];
    const actions: number[] = [];
    for (let take = 1; take <= 7; take += 1) {
      this.piles.forEach((size, pile) => {
        if (take <= size) actions.push(nimAction(pile + 1, take));
      });
    }
    return actions.sort((a, b) => a - b);
  }

  chanceOutcomes(): ChanceOutcome[] {
    return [];
  }

  apply(action: number): GameState {
    if (!this.legalActions().includes(action)) throw new Error(`nim: action ${action} is not legal`);
    const pile = action % 4;
    const take = Math.floor(action / 4) + 1;
    const piles = [...this.piles];
    piles[pile] -= take;
    return new NimState(piles, 1 - this.toMove, this.toMove);
  }

  applyJoint(): GameState {
    throw new Error('nim has no simultaneous moves');
  }

  /** Misère: whoever takes the last object loses. */
  returns(): number[] {
    if (this.turn().kind !== 'terminal' || this.lastMover === null) return [0, 0];
    return this.lastMover === 0 ? [-1, 1] : [1, -1];
  }

  actionToString(_player: PlayerId, action: number): string {
    return `<pile:${(action % 4) + 1}, take:${Math.floor(action / 4) + 1}>`;
  }

  observationString(player: PlayerId): string {
    return [
      'Nim with four piles. On your turn take one or more objects from a single pile. Whoever takes the last object LOSES.',
      'Moves are written <pile:x, take:y>: take y objects from pile x (piles 1-4).',
      `Current piles: ${this.piles.map((size, i) => `pile ${i + 1}: ${size}`).join(', ')}.`,
      `Legal moves: ${this.legalActions().map((a) => this.actionToString(player, a)).join(', ')}.`,
    ].join('\n');
  }

  toString(): string {
    return `${this.piles.join(',')}|${this.toMove}`;
  }
}

export const NIM: Game = { name: 'nim', numPlayers: 2, suite: 'gtbench', initialState: () => new NimState([...START], 0) };

/** GTBench's pattern: `<pile:p, take:t>` within the starting piles' limits, last match; pile = first number, take = last. */
export function parseNimMove(reply: string, state: GameState, player: PlayerId): ParsedMove {
  const match = lastMatch(reply, /<pile:(1), take:(1)>|<pile:(2), take:([1-3])>|<pile:(3), take:([1-5])>|<pile:(4), take:([1-7])>/);
  if (!match) return { ok: false, reason: 'no move of the form <pile:x, take:y>' };
  const numbers = match.slice(1).filter((g) => g !== undefined).map(Number);
  const action = nimAction(numbers[0], numbers[numbers.length - 1]);
  if (!state.legalActions(player).includes(action)) return { ok: false, reason: `${match[0]} takes more than the pile holds` };
  return { ok: true, action, matched: match[0] };
}
