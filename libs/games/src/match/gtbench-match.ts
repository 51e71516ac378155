import type { GameState, PlayerId } from '../core/game';
import { createRng, deriveSeed, sampleOutcome, type Rng } from '../rng/rng';
import {
  formatInvalidPolicy,
  reaskBudget,
  type Agent,
  type ChatMessage,
  isTextOpponent,
  type InvalidPolicy,
  type MatchOpponent,
  type TextGame,
} from '../protocol/agent';
import { renderMessages } from './complete-info-trial';
import { decodingField, emitFinished, emitMove, type EmitEvent, type GameDecoding, type GameFinishedPayload } from './events';
import type { ScheduledMatch } from './schedule';

export interface GtbenchMatchOptions {
  match: ScheduledMatch;
  stage: string;
  /** GTBench-style by default: an unparseable reply ends the match as Abnormal. */
  policy?: InvalidPolicy;
  emit: EmitEvent;
  /** Safety bound on plies (every GTBench game ends far sooner). */
  maxPlies?: number;
  /** Recorded on the agent's moves and the result when given (see decodingField). */
  decoding?: GameDecoding;
}

const SYSTEM = 'You are playing a two-player game. Read the situation and answer with one legal move.';

export function defaultPrompt(state: GameState, player: PlayerId): ChatMessage[] {
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: state.observationString(player) },
  ];
}

/** Separate seeded streams for chance and the opponent, so changing one never shifts the other. */
export const matchStreams = (seed: number) => ({
  chanceSeed: deriveSeed(seed, 'chance'),
  opponentSeed: deriveSeed(seed, 'opponent'),
});

/** The evaluated agent's outcome from the returns (higher return wins; equal is a draw). */
export function outcomeFor(returns: readonly number[], agentSeat: number): 'win' | 'loss' | 'draw' {
  const mine = returns[agentSeat];
  const best = Math.max(...returns.filter((_, seat) => seat !== agentSeat));
  return mine > best ? 'win' : mine < best ? 'loss' : 'draw';
}

/** How a match that the agent could not continue ends, by policy: forfeit is a loss, otherwise Abnormal. */
export const invalidEnding = (policy: InvalidPolicy) =>
  policy.kind === 'forfeit' ? ({ outcome: 'loss', status: 'normal' } as const) : ({ outcome: 'abnormal', status: 'abnormal' } as const);

/** How a match ends when the opponent's reply could not continue it: forfeit is the agent's win, otherwise Abnormal. */
export const opponentInvalidEnding = (policy: InvalidPolicy) =>
  policy.kind === 'forfeit' ? ({ outcome: 'win', status: 'normal' } as const) : ({ outcome: 'abnormal', status: 'abnormal' } as const);

/**
 * One GTBench match of the evaluated agent (through the text protocol) against an opponent: a built-in engine
 * choosing from the true state, or a text opponent answering its own observation under the same invalid-reply
 * policy as the agent. Every observation, raw reply, parsed move, opponent move and chance outcome is emitted
 * as `game.move`, then the result as `game.finished`.
 */
export async function runGtbenchMatch(
  textGame: TextGame,
  agent: Agent,
  opponent: MatchOpponent,
  options: GtbenchMatchOptions,
): Promise<GameFinishedPayload> {
  const { game, parse } = textGame;
  const prompt = textGame.prompt ?? defaultPrompt;
  const policy = options.policy ?? { kind: 'abnormal' };
  const { matchId, seed, agentSeat } = options.match;
  const { chanceSeed, opponentSeed } = matchStreams(seed);
  const chanceRng: Rng = createRng(chanceSeed);
  const opponentRng: Rng = createRng(opponentSeed);
  const maxPlies = options.maxPlies ?? 10_000;
  let state = game.initialState();
  let invalidCount = 0;
  let retries = 0;
  let opponentInvalidCount = 0;
  let failed: 'agent' | 'opponent' | null = null;
  const base = { matchId, game: game.name };

  /** A text player's decision: its reply to the seat's observation, parsed (re-asked as the policy allows). */
  const textMove = async (
    actor: 'agent' | 'opponent',
    player: Agent,
    decoding: GameDecoding | undefined,
    s: GameState,
    seat: PlayerId,
    ply: number,
  ): Promise<number | null> => {
    const messages = prompt(s, seat);
    const legalMoves = s.legalActions(seat).map((a) => s.actionToString(seat, a));
    // Each engine's canonical notation is a reply its parser reads as that move (gtbench-match.spec checks all).
    const replies = legalMoves;
    for (let attempt = 0; attempt <= reaskBudget(policy); attempt += 1) {
      if (attempt > 0 && actor === 'agent') retries += 1;
      const rawText = await player.act({ messages, legalMoves, replies });
      const parsed = parse(rawText, s, seat);
      await emitMove(options.emit, {
        ...base,
        ply,
        actor,
        seat,
        observation: renderMessages(messages),
        rawText,
        parsedMove: parsed.ok ? s.actionToString(seat, parsed.action) : null,
        action: parsed.ok ? parsed.action : null,
        legal: parsed.ok,
        attempt,
        ...decodingField(decoding),
      });
      if (parsed.ok) return parsed.action;
      if (actor === 'agent') invalidCount += 1;
      else opponentInvalidCount += 1;
    }
    return null;
  };

  const agentMove = (s: GameState, seat: PlayerId, ply: number) => textMove('agent', agent, options.decoding, s, seat, ply);

  const opponentMove = async (s: GameState, seat: PlayerId, ply: number): Promise<number | null> => {
    if (isTextOpponent(opponent)) return textMove('opponent', opponent.agent, opponent.decoding, s, seat, ply);
    const action = opponent.move(s, seat, opponentRng);
    await emitMove(options.emit, {
      ...base,
      ply,
      actor: 'opponent',
      seat,
      parsedMove: s.actionToString(seat, action),
      action,
      legal: true,
    });
    return action;
  };

  for (let ply = 0; !failed; ply += 1) {
    if (ply >= maxPlies) throw new Error(`${game.name} match ${matchId}: no terminal state after ${maxPlies} plies`);
    const turn = state.turn();
    if (turn.kind === 'terminal') break;
    if (turn.kind === 'chance') {
      const action = sampleOutcome(state.chanceOutcomes(), chanceRng);
      await emitMove(options.emit, { ...base, ply, actor: 'chance', seat: -1, action, legal: true, chanceSeed });
      state = state.apply(action);
    } else if (turn.kind === 'player') {
      const mine = turn.player === agentSeat;
      const action = mine ? await agentMove(state, turn.player, ply) : await opponentMove(state, turn.player, ply);
      if (action === null) failed = mine ? 'agent' : 'opponent';
      else state = state.apply(action);
    } else {
      const joint: number[] = [];
      for (const seat of turn.players) {
        const mine = seat === agentSeat;
        const action = mine ? await agentMove(state, seat, ply) : await opponentMove(state, seat, ply);
        if (action === null) {
          failed = mine ? 'agent' : 'opponent';
          break;
        }
        joint.push(action);
      }
      if (!failed) state = state.applyJoint(joint);
    }
  }
  const returns = state.returns();
  const ending =
    failed === 'agent'
      ? invalidEnding(policy)
      : failed === 'opponent'
        ? opponentInvalidEnding(policy)
        : { outcome: outcomeFor(returns, agentSeat), status: 'normal' as const };
  const finished: GameFinishedPayload = {
    ...base,
    suite: 'gtbench',
    stage: options.stage,
    opponent: opponent.name,
    agentSeat,
    seed,
    returns,
    outcome: ending.outcome,
    status: ending.status,
    invalidCount,
    retries,
    invalidPolicy: formatInvalidPolicy(policy),
    ...decodingField(options.decoding),
    ...(isTextOpponent(opponent)
      ? { opponentPolicy: opponent.policy, opponentInvalidCount, ...(failed === 'opponent' ? { fault: 'opponent' as const } : {}) }
      : {}),
  };
  await emitFinished(options.emit, finished);
  return finished;
}
