import type { TextGame } from '../protocol/agent';
import { BREAKTHROUGH, parseBreakthroughMove } from './breakthrough';
import { CONNECT4, parseConnect4Move } from './connect4';
import { FIRST_SEALED_AUCTION, parseAuctionBid } from './first-sealed-auction';
import { KUHN_POKER, parseKuhnPokerMove } from './kuhn-poker';
import { LIARS_DICE, parseLiarsDiceMove } from './liars-dice';
import { NEGOTIATION, parseNegotiationMove } from './negotiation';
import { NIM, parseNimMove } from './nim';
import { PIG, parsePigMove } from './pig';
import { ITERATED_PRISONERS_DILEMMA, parsePrisonersDilemmaMove } from './prisoners-dilemma';
import { TICTACTOE, parseTicTacToeMove } from './tictactoe';

/** Every GTBench engine with its documented parser, as the match runner and replay take them (games.md order). */
export const GTBENCH_TEXT_GAMES: readonly TextGame[] = [
  { game: TICTACTOE, parse: parseTicTacToeMove },
  { game: CONNECT4, parse: parseConnect4Move },
  { game: BREAKTHROUGH, parse: parseBreakthroughMove },
  { game: FIRST_SEALED_AUCTION, parse: parseAuctionBid },
  { game: KUHN_POKER, parse: parseKuhnPokerMove },
  { game: LIARS_DICE, parse: parseLiarsDiceMove },
  { game: NEGOTIATION, parse: parseNegotiationMove },
  { game: NIM, parse: parseNimMove },
  { game: PIG, parse: parsePigMove },
  { game: ITERATED_PRISONERS_DILEMMA, parse: parsePrisonersDilemmaMove },
];

/** The text game of a recorded name (e.g. for `replayGtbenchMatch`); throws naming the unknown game. */
export function gtbenchTextGame(name: string): TextGame {
  const found = GTBENCH_TEXT_GAMES.find((t) => t.game.name === name);
  if (!found) throw new Error(`no GTBench game '${name}' (known: ${GTBENCH_TEXT_GAMES.map((t) => t.game.name).join(', ')})`);
  return found;
}
