import type { ChanceOutcome, Game, GameState, PlayerId, Turn } from '../core/game';
import type { Rng } from '../rng/rng';
import type { InformationSetSampling } from './information-set';
import { lastMatch, type ParsedMove } from './move-text';

export const KUHN_PASS = 0;
export const KUHN_BET = 1;
const CARD_NAMES = ['J', 'Q', 'K'];
const MOVE_NAMES = ['<Pass>', '<Bet>'];
/** Betting sequences that end the hand (p = pass, b = bet). */
const ENDINGS = new Set(['pp', 'pbp', 'pbb', 'bp', 'bb']);

class KuhnPokerState implements GameState, InformationSetSampling {
  readonly game = 'kuhn_poker';

  constructor(
    /** cards[seat], 0 = J, 1 = Q, 2 = K; dealt by chance, player 0 first. */
    readonly cards: ReadonlyArray<number>,
    readonly moves: ReadonlyArray<number>,
  ) {}

  private sequence(): string {
    return this.moves.map((m) => (m === KUHN_PASS ? 'p' : 'b')).join('');
  }

  turn(): Turn {
    if (this.cards.length < 2) return { kind: 'chance' };
    if (ENDINGS.has(this.sequence())) return { kind: 'terminal' };
    return { kind: 'player', player: this.moves.length % 2 };
  }

  legalActions(player: PlayerId): number[] {
    const turn = this.turn();
    return turn.kind === 'player' && turn.player === player ? [KUHN_PASS, KUHN_BET] : [];
  }

  chanceOutcomes(): ChanceOutcome[] {
    if (this.cards.length >= 2) return [];
    const remaining = [0, 1, 2].filter((card) => !this.cards.includes(card));
    return remaining.map((action) => ({ action, probability: 1 / remaining.length }));
  }

  apply(action: number): GameState {
    const turn = this.turn();
    if (turn.kind === 'chance') {
      if (!this.chanceOutcomes().some((o) => o.action === action)) throw new Error(`kuhn_poker: card ${action} cannot be dealt`);
      return new KuhnPokerState([...this.cards, action], this.moves);
    }
    if (turn.kind !== 'player' || (action !== KUHN_PASS && action !== KUHN_BET))
      throw new Error(`kuhn_poker: action ${action} is not legal`);
    return new KuhnPokerState(this.cards, [...this.moves, action]);
  }

  applyJoint(): GameState {
    throw new Error('kuhn_poker has no simultaneous moves');
  }

  /** Ante 1 each; a bet adds 1. A pass facing a bet folds; otherwise the higher card takes the pot. */
  returns(): number[] {
    const sequence = this.sequence();
    if (this.cards.length < 2 || !ENDINGS.has(sequence)) return [0, 0];
    if (sequence === 'pbp') return [-1, 1];
    if (sequence === 'bp') return [1, -1];
    const stake = sequence === 'pp' ? 1 : 2;
    return this.cards[0] > this.cards[1] ? [stake, -stake] : [-stake, stake];
  }

  actionToString(_player: PlayerId, action: number): string {
    if (this.turn().kind === 'chance') return `deal ${CARD_NAMES[action]}`;
    return MOVE_NAMES[action];
  }

  /** The seat's own card and the true betting history; never the other card. */
  observationString(player: PlayerId): string {
    const history = this.moves.map(
      (m, i) => `round ${i + 1}: ${i % 2 === player ? 'you' : 'your opponent'} played ${MOVE_NAMES[m]}`,
    );
    const legal = this.legalActions(player).map((a) => MOVE_NAMES[a]);
    return [
      'Kuhn poker with three cards, J < Q < K. Each player antes 1 chip and is dealt one card; the third card stays unseen.',
      'Betting alternates, starting with the first player. <Pass> checks, or folds when facing a bet; <Bet> adds 1 chip, or calls a bet.',
      'Pass after pass, or bet after bet, goes to a showdown: the higher card wins the pot. Passing against a bet forfeits the pot.',
      this.cards.length > player ? `Your card: ${CARD_NAMES[this.cards[player]]}.` : 'You have no card yet.',
      history.length > 0 ? `Moves so far in this hand: ${history.join('; ')}.` : 'No moves yet in this hand.',
      legal.length > 0 ? `Legal moves: ${legal.join(', ')}.` : 'The hand is over.',
    ].join('\n');
  }

  /** Redraws the other player's card from the two the seat does not hold. */
  sampleInformationSet(player: PlayerId, rng: Rng): GameState {
    if (this.cards.length < 2) return this;
    const own = this.cards[player];
    const others = [0, 1, 2].filter((card) => card !== own);
    const cards = [...this.cards];
    cards[1 - player] = others[rng.int(others.length)];
    return new KuhnPokerState(cards, this.moves);
  }

  toString(): string {
    return `${this.cards.map((c) => CARD_NAMES[c]).join('')}|${this.sequence()}`;
  }
}

export const KUHN_POKER: Game = {
  name: 'kuhn_poker',
  numPlayers: 2,
  suite: 'gtbench',
  initialState: () => new KuhnPokerState([], []),
};

/** GTBench's pattern `<Pass>` or `<Bet>` (case-sensitive, brackets required), last match. */
export function parseKuhnPokerMove(reply: string, state: GameState, player: PlayerId): ParsedMove {
  const match = lastMatch(reply, /<Pass>|<Bet>/);
  if (!match) return { ok: false, reason: 'no move of the form <Pass> or <Bet>' };
  const action = match[0] === '<Pass>' ? KUHN_PASS : KUHN_BET;
  if (!state.legalActions(player).includes(action)) return { ok: false, reason: `${match[0]} is not legal now` };
  return { ok: true, action, matched: match[0] };
}
