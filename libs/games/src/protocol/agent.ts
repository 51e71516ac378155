import type { ChatMessage } from '../complete-info/prompts';
import type { Game, GameState, PlayerId } from '../core/game';
import type { ParsedMove } from '../gtbench/move-text';
import { createRng, type Rng } from '../rng/rng';

export type { ChatMessage };

/** What an agent sees at one decision: the chat messages and the legal moves in their canonical notation. */
export interface Observation {
  messages: ChatMessage[];
  legalMoves: string[];
  /**
   * For each legal move (same order), a complete reply the game's parser reads as exactly that move, e.g.
   * `<s>choice_2</s>` or `<C1R2>`: the allowed outputs of legal-move-constrained decoding. Not in the prompt.
   */
  replies: string[];
}

/**
 * A player that answers a text observation with text. The LLM policy and built-in policies implement it;
 * the match runner parses the reply with the game's parser, so an agent never returns a move directly.
 */
export interface Agent {
  readonly name: string;
  act(observation: Observation): Promise<string>;
}

/**
 * The common interface each engine's documented parser plugs into (GTBench parsers live beside their engines,
 * e.g. `parseTicTacToeMove`): the reply, the state and the acting seat in; an action id or a reason out.
 */
export type MoveParser = (reply: string, state: GameState, player: PlayerId) => ParsedMove;

/** A GTBench engine as the match runner needs it: the rules, the parser and (optionally) its own prompt. */
export interface TextGame {
  game: Game;
  parse: MoveParser;
  /** Defaults to a system line plus the engine's `observationString` for the seat. */
  prompt?: (state: GameState, player: PlayerId) => ChatMessage[];
}

/** A built-in opponent (random, MCTS, ...) choosing from the true state with its own seeded stream. */
export interface Opponent {
  readonly name: string;
  move(state: GameState, player: PlayerId, rng: Rng): number;
}

/**
 * An opponent that plays through the text protocol, as the evaluated agent does (an OpenAI-compatible model, a
 * built-in checkpoint): it sees its own seat's observation and its replies are parsed by the game's parser.
 */
export interface TextOpponent {
  readonly name: string;
  readonly agent: Agent;
  /** What it plays with, recorded on every match: a checkpoint hash, or `openai:<model>@<base URL>`. */
  readonly policy: string;
  /** How a built-in checkpoint's replies are decoded (recorded on its moves); absent: free-form. */
  readonly decoding?: 'free' | 'constrained';
}

/** Whatever the evaluated agent can meet in a GTBench match. */
export type MatchOpponent = Opponent | TextOpponent;

export const isTextOpponent = (opponent: MatchOpponent): opponent is TextOpponent => 'agent' in opponent;

/**
 * What happens when an agent's reply cannot be parsed into a legal move:
 * `forfeit` (the agent loses the match), `abnormal` (GTBench: the match ends as Abnormal), or
 * `reask` (ask again with the same observation up to `times` more, then the decision is invalid).
 */
export type InvalidPolicy = { kind: 'forfeit' } | { kind: 'abnormal' } | { kind: 'reask'; times: number };

/** Parses the recorded form of a policy: 'forfeit', 'abnormal' or 'reask:k'. */
export function parseInvalidPolicy(text: string): InvalidPolicy {
  if (text === 'forfeit' || text === 'abnormal') return { kind: text };
  const match = /^reask:(\d+)$/.exec(text);
  if (match) return { kind: 'reask', times: Number(match[1]) };
  throw new Error(`invalid-output policy '${text}': expected 'forfeit', 'abnormal' or 'reask:<k>'`);
}

export function formatInvalidPolicy(policy: InvalidPolicy): string {
  return policy.kind === 'reask' ? `reask:${policy.times}` : policy.kind;
}

/** Extra attempts a policy allows after the first invalid reply. */
export const reaskBudget = (policy: InvalidPolicy) => (policy.kind === 'reask' ? policy.times : 0);

/**
 * An agent that answers from a fixed script, in order, cycling when exhausted. A real agent (used for
 * tests, smoke runs and as a deterministic baseline), not a stand-in for the model.
 */
export class ScriptedAgent implements Agent {
  private next = 0;
  constructor(
    readonly name: string,
    private readonly replies: readonly string[],
  ) {
    if (replies.length === 0) throw new Error(`ScriptedAgent '${name}': the script has no replies`);
  }

  act(): Promise<string> {
    const reply = this.replies[this.next % this.replies.length];
    this.next += 1;
    return Promise.resolve(reply);
  }
}

/**
 * An agent that names a uniformly random legal move, drawn from its own seeded generator, in a reply
 * `reply` writes around it (e.g. after some reasoning text, as a model would).
 */
export class RandomTextAgent implements Agent {
  readonly name = 'random-text';
  private readonly rng: Rng;
  constructor(
    seed: number,
    private readonly reply: (move: string, legalMoves: readonly string[]) => string,
  ) {
    this.rng = createRng(seed);
  }

  act({ legalMoves }: Observation): Promise<string> {
    const move = legalMoves[this.rng.int(legalMoves.length)];
    return Promise.resolve(this.reply(move, legalMoves));
  }
}

/** An agent that always names the first legal move in `<s>`..`</s>` form (complete-info answer format). */
export class FirstLegalAgent implements Agent {
  readonly name = 'first-legal';
  act(observation: Observation): Promise<string> {
    return Promise.resolve(`<s>${observation.legalMoves[0]}</s>`);
  }
}
