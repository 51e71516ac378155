import type { ChanceOutcome, Game, GameState, PlayerId, Turn } from '../core/game';
import type { Rng } from '../rng/rng';
import type { InformationSetSampling } from './information-set';
import { lastMatch, type ParsedMove } from './move-text';

const TOTAL_DICE = 2;
const FACES = 6;
/** Calling the last bid a lie. */
export const LIAR = TOTAL_DICE * FACES;

/** Action id of the bid "at least `quantity` dice show `face`": (quantity - 1) * 6 + (face - 1). */
export const liarsDiceBid = (quantity: number, face: number) => (quantity - 1) * FACES + (face - 1);

const bidText = (action: number) => `<${Math.floor(action / FACES) + 1} dices, ${(action % FACES) + 1} value>`;

class LiarsDiceState implements GameState, InformationSetSampling {
  readonly game = 'liars_dice';

  constructor(
    /** dice[seat]: the face (1-6) of each player's single die, rolled by chance, player 0 first. */
    readonly dice: ReadonlyArray<number>,
    /** Bids in order (player 0 first), ending with LIAR once someone calls. */
    readonly moves: ReadonlyArray<number>,
  ) {}

  turn(): Turn {
    if (this.dice.length < TOTAL_DICE) return { kind: 'chance' };
    if (this.moves.at(-1) === LIAR) return { kind: 'terminal' };
    return { kind: 'player', player: this.moves.length % 2 };
  }

  /** Any bid above the last one; "Liar" once a bid exists. After 2 sixes only "Liar" remains. */
  legalActions(player: PlayerId): number[] {
    const turn = this.turn();
    if (turn.kind !== 'player' || turn.player !== player) return [];
    const last = this.moves.at(-1) ?? -1;
    const legal: number[] = [];
    for (let bid = last + 1; bid < LIAR; bid += 1) legal.push(bid);
    if (this.moves.length > 0) legal.push(LIAR);
    return legal;
  }

  /** Outcome id = face - 1. */
  chanceOutcomes(): ChanceOutcome[] {
    if (this.turn().kind !== 'chance') return [];
    return Array.from({ length: FACES }, (_, action) => ({ action, probability: 1 / FACES }));
  }

  apply(action: number): GameState {
    const turn = this.turn();
    if (turn.kind === 'chance') {
      if (!Number.isInteger(action) || action < 0 || action >= FACES) throw new Error(`liars_dice: die outcome ${action} is impossible`);
      return new LiarsDiceState([...this.dice, action + 1], this.moves);
    }
    if (turn.kind !== 'player' || !this.legalActions(turn.player).includes(action))
      throw new Error(`liars_dice: action ${action} is not legal`);
    return new LiarsDiceState(this.dice, [...this.moves, action]);
  }

  applyJoint(): GameState {
    throw new Error('liars_dice has no simultaneous moves');
  }

  /** After "Liar": dice showing the bid face or a 6 (wild) are counted; enough means the bidder wins. */
  returns(): number[] {
    if (this.turn().kind !== 'terminal') return [0, 0];
    const bid = this.moves[this.moves.length - 2];
    const bidder = (this.moves.length - 2) % 2;
    const quantity = Math.floor(bid / FACES) + 1;
    const face = (bid % FACES) + 1;
    const count = this.dice.filter((d) => d === face || d === 6).length;
    const winner = count >= quantity ? bidder : 1 - bidder;
    return winner === 0 ? [1, -1] : [-1, 1];
  }

  actionToString(_player: PlayerId, action: number): string {
    if (this.turn().kind === 'chance') return `roll ${action + 1}`;
    return action === LIAR ? '<Liar>' : bidText(action);
  }

  /** The seat's own die and the last bid (public); never the other die. */
  observationString(player: PlayerId): string {
    const last = this.moves.at(-1);
    const lastBidder = (this.moves.length - 1) % 2 === player ? 'Your' : "Your opponent's";
    const legal = this.legalActions(player).map((a) => this.actionToString(player, a));
    return [
      "Liar's dice with two players and one six-sided die each (two dice in total). Sixes are wild: they count as any face.",
      'Players take turns, the first player first. A bid <q dices, f value> claims that at least q of the two dice show face f (or a 6).',
      'Each bid must be higher than the last one: more dice, or the same number of dice with a higher face. Instead of bidding you may call <Liar>.',
      'After <Liar> the dice are shown: if the claim holds, the bidder wins; otherwise the caller wins.',
      this.dice.length > player ? `Your die shows ${this.dice[player]}.` : 'Your die has not been rolled yet.',
      last === undefined ? 'No bid yet: you go first.' : `${lastBidder} last move: ${this.actionToString(player, last)}.`,
      legal.length > 0 ? `Legal moves: ${legal.join(', ')}.` : 'The game is over.',
    ].join('\n');
  }

  /** Redraws the other player's die uniformly. */
  sampleInformationSet(player: PlayerId, rng: Rng): GameState {
    if (this.dice.length < TOTAL_DICE) return this;
    const dice = [...this.dice];
    dice[1 - player] = rng.int(FACES) + 1;
    return new LiarsDiceState(dice, this.moves);
  }

  toString(): string {
    return `${this.dice.join('')}|${this.moves.join(',')}`;
  }
}

export const LIARS_DICE: Game = {
  name: 'liars_dice',
  numPlayers: 2,
  suite: 'gtbench',
  initialState: () => new LiarsDiceState([], []),
};

/**
 * GTBench's pattern: `<q dices, f value>` or `<q dice, f value>` (q 1-2, f 1-6) or `<Liar>`, last match.
 * A bid that is not above the last bid (or "Liar" before any bid) is refused.
 */
export function parseLiarsDiceMove(reply: string, state: GameState, player: PlayerId): ParsedMove {
  const match = lastMatch(reply, /<([12]) dices?, ([1-6]) value>|<Liar>/);
  if (!match) return { ok: false, reason: 'no move of the form <q dices, f value> or <Liar>' };
  const action = match[0] === '<Liar>' ? LIAR : liarsDiceBid(Number(match[1]), Number(match[2]));
  if (!state.legalActions(player).includes(action))
    return { ok: false, reason: action === LIAR ? '<Liar> needs a bid to call' : `${match[0]} is not above the last bid` };
  return { ok: true, action, matched: match[0] };
}
