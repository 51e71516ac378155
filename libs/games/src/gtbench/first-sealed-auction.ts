import type { ChanceOutcome, Game, GameState, PlayerId, Turn } from '../core/game';
import type { Rng } from '../rng/rng';
import type { InformationSetSampling } from './information-set';
import { lastMatch, type ParsedMove } from './move-text';

/** GTBench's parameters: 2 players, valuations uniform in 1..10. */
const MAX_VALUE = 10;
const PLAYERS = 2;

/**
 * First-price sealed-bid auction (OpenSpiel `first_sealed_auction`). Chance draws each valuation (outcome
 * id = the value), player 0 bids then player 1 (bid id = the bid, 0 .. valuation - 1), neither seeing the
 * other's bid; a tie is broken by a uniform chance draw (outcome id = the winning seat).
 */
class AuctionState implements GameState, InformationSetSampling {
  readonly game = 'first_sealed_auction';

  constructor(
    readonly valuations: ReadonlyArray<number>,
    readonly bids: ReadonlyArray<number>,
    readonly tieWinner: PlayerId | null,
  ) {}

  private tied(): boolean {
    return this.bids.length === PLAYERS && this.bids[0] === this.bids[1];
  }

  turn(): Turn {
    if (this.valuations.length < PLAYERS) return { kind: 'chance' };
    if (this.bids.length < PLAYERS) return { kind: 'player', player: this.bids.length };
    if (this.tied() && this.tieWinner === null) return { kind: 'chance' };
    return { kind: 'terminal' };
  }

  legalActions(player: PlayerId): number[] {
    const turn = this.turn();
    if (turn.kind !== 'player' || turn.player !== player) return [];
    return Array.from({ length: this.valuations[player] }, (_, bid) => bid);
  }

  chanceOutcomes(): ChanceOutcome[] {
    if (this.turn().kind !== 'chance') return [];
    if (this.valuations.length < PLAYERS)
      return Array.from({ length: MAX_VALUE }, (_, i) => ({ action: i + 1, probability: 1 / MAX_VALUE }));
    return [0, 1].map((action) => ({ action, probability: 1 / PLAYERS }));
  }

  apply(action: number): GameState {
    const turn = this.turn();
    if (turn.kind === 'chance') {
      if (!this.chanceOutcomes().some((o) => o.action === action)) throw new Error(`first_sealed_auction: chance outcome ${action} is impossible`);
      return this.valuations.length < PLAYERS
        ? new AuctionState([...this.valuations, action], this.bids, null)
        : new AuctionState(this.valuations, this.bids, action);
    }
    if (turn.kind !== 'player' || !this.legalActions(turn.player).includes(action))
      throw new Error(`first_sealed_auction: bid ${action} is not legal`);
    return new AuctionState(this.valuations, [...this.bids, action], null);
  }

  applyJoint(): GameState {
    throw new Error('first_sealed_auction has no simultaneous moves');
  }

  /** The winner gets valuation - bid (at least 1), the loser 0. */
  returns(): number[] {
    if (this.turn().kind !== 'terminal') return [0, 0];
    const winner = this.tied() ? (this.tieWinner as PlayerId) : this.bids[0] > this.bids[1] ? 0 : 1;
    const returns = [0, 0];
    returns[winner] = this.valuations[winner] - this.bids[winner];
    return returns;
  }

  actionToString(_player: PlayerId, action: number): string {
    if (this.turn().kind === 'chance') return this.valuations.length < PLAYERS ? `valuation ${action}` : `tie won by player ${action}`;
    return `<${action}>`;
  }

  /** Only the seat's own valuation (and own bid once made); the other valuation and bid stay sealed. */
  observationString(player: PlayerId): string {
    const legal = this.legalActions(player).map((a) => `<${a}>`);
    const value = this.valuations[player];
    return [
      'A first-price sealed-bid auction between two bidders for one item. Each bidder submits one bid without seeing the other\'s.',
      'The highest bid wins the item and pays its bid; a tie is settled by a fair coin. The winner gains its valuation minus its bid; the loser gains 0.',
      value === undefined ? 'Your valuation has not been drawn yet.' : `Your valuation of the item: ${value}. Your bid must be a whole number strictly below it (0 to ${value - 1}).`,
      "Your opponent's valuation (a whole number from 1 to 10) is unknown to you.",
      this.bids.length > player ? `Your bid: <${this.bids[player]}>.` : 'You have not bid yet.',
      legal.length > 0 ? `Legal bids: ${legal.join(', ')}.` : 'Not your move.',
    ].join('\n');
  }

  /** Redraws the other valuation uniformly and, if that player has bid unseen, its bid uniformly below it. */
  sampleInformationSet(player: PlayerId, rng: Rng): GameState {
    if (this.valuations.length < PLAYERS) return this;
    const other = 1 - player;
    const valuations = [...this.valuations];
    valuations[other] = rng.int(MAX_VALUE) + 1;
    const bids = [...this.bids];
    if (bids.length > other) bids[other] = rng.int(valuations[other]);
    const stillTied = bids.length === PLAYERS && bids[0] === bids[1];
    return new AuctionState(valuations, bids, stillTied ? this.tieWinner : null);
  }

  toString(): string {
    return `${this.valuations.join(',')}|${this.bids.join(',')}|${this.tieWinner ?? ''}`;
  }
}

export const FIRST_SEALED_AUCTION: Game = {
  name: 'first_sealed_auction',
  numPlayers: 2,
  suite: 'gtbench',
  initialState: () => new AuctionState([], [], null),
};

/**
 * GTBench's pattern: `<` then 0-10 then `>` (brackets required), last match. A bid that is not legal is
 * replaced by the nearest legal bid (ties to the larger), so a match is never refused.
 */
export function parseAuctionBid(reply: string, state: GameState, player: PlayerId): ParsedMove {
  const match = lastMatch(reply, /<(10|[0-9])>/);
  if (!match) return { ok: false, reason: 'no bid of the form <x> with x from 0 to 10' };
  const legal = state.legalActions(player);
  if (legal.length === 0) return { ok: false, reason: `player ${player} has no bid to make` };
  const bid = Number(match[1]);
  let action = legal[0];
  for (const candidate of legal) if (Math.abs(candidate - bid) <= Math.abs(action - bid)) action = candidate;
  return { ok: true, action, matched: match[0] };
}
