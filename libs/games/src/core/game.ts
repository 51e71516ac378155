/**
 * The engine interface every game implements (OpenSpiel-like). Engines are pure and deterministic:
 * all randomness enters through chance nodes, whose outcome the caller draws from a seeded generator
 * and applies like any other action, so a match replays from its recorded actions alone.
 */
export type PlayerId = number;

/** Who acts at a state. 'simultaneous' is used only by the iterated prisoner's dilemma. */
export type Turn =
  | { kind: 'player'; player: PlayerId }
  | { kind: 'chance' }
  | { kind: 'simultaneous'; players: PlayerId[] }
  | { kind: 'terminal' };

export interface ChanceOutcome {
  action: number;
  probability: number;
}

export interface GameState {
  readonly game: string;
  turn(): Turn;
  /** Legal action ids for a player (at a 'player' or 'simultaneous' turn), ascending. */
  legalActions(player: PlayerId): number[];
  /** Outcomes and their probabilities at a chance node (probabilities sum to 1). */
  chanceOutcomes(): ChanceOutcome[];
  /** Applies one action (player or chance) and returns the next state; never mutates this one. */
  apply(action: number): GameState;
  /** Simultaneous node: one action per acting player, in seat order. */
  applyJoint(actions: number[]): GameState;
  /** Terminal (or running, for games with running totals) returns, one per seat. */
  returns(): number[];
  /** Canonical notation of an action for a player, e.g. '<C1R1>' or '<pile:1, take:1>'. */
  actionToString(player: PlayerId, action: number): string;
  /** Text of what a seat may know (its information set), used by prompts and hidden-info opponents. */
  observationString(player: PlayerId): string;
  /** Stable string of the full state (for hashing and replay checks). */
  toString(): string;
}

export interface Game {
  readonly name: string;
  readonly numPlayers: number;
  readonly suite: 'complete-information' | 'gtbench';
  initialState(): GameState;
}
