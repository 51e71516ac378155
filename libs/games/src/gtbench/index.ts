import type { Game } from '../core/game';
import { BREAKTHROUGH } from './breakthrough';
import { CONNECT4 } from './connect4';
import { FIRST_SEALED_AUCTION } from './first-sealed-auction';
import { KUHN_POKER } from './kuhn-poker';
import { LIARS_DICE } from './liars-dice';
import { NEGOTIATION } from './negotiation';
import { NIM } from './nim';
import { PIG } from './pig';
import { ITERATED_PRISONERS_DILEMMA } from './prisoners-dilemma';
import { TICTACTOE } from './tictactoe';

export * from './move-text';
export * from './information-set';
export * from './tictactoe';
export * from './connect4';
export * from './breakthrough';
export * from './first-sealed-auction';
export * from './kuhn-poker';
export * from './liars-dice';
export * from './negotiation';
export * from './nim';
export * from './pig';
export * from './prisoners-dilemma';
export * from './text-games';

/** The GTBench engines available, in games.md order (§3.3). */
export const GTBENCH_GAMES: Game[] = [
  TICTACTOE,
  CONNECT4,
  BREAKTHROUGH,
  FIRST_SEALED_AUCTION,
  KUHN_POKER,
  LIARS_DICE,
  NEGOTIATION,
  NIM,
  PIG,
  ITERATED_PRISONERS_DILEMMA,
];
