import { parseChoice } from '../complete-info/prompts';
import {
  completeInfoGame,
  judgeTrial,
  nextDecision,
  renderMessages,
} from './complete-info-trial';
import type { GameEvent, GameFinishedPayload } from './events';
import { invalidEnding, opponentInvalidEnding, outcomeFor } from './gtbench-match';
import { parseInvalidPolicy, type TextGame } from '../protocol/agent';

export interface ReplayResult {
  matchId: string;
  recorded: GameFinishedPayload;
  /** The verdict recomputed from the moves alone (no model). */
  recomputed: Pick<GameFinishedPayload, 'outcome' | 'returns' | 'invalidCount' | 'retries'> &
    Partial<Pick<GameFinishedPayload, 'paretoOptimalEquilibrium'>>;
  matches: boolean;
}

class ReplayError extends Error {}

/**
 * Rebuilds a complete-information trial from its events: re-renders each prompt and checks it equals the
 * recorded observation, re-parses each raw reply and checks the recorded move, then re-judges the trial.
 * Throws a ReplayError naming the event when the log is inconsistent.
 */
export function replayCompleteInfoTrial(events: readonly GameEvent[]): ReplayResult {
  const finished = events.filter((e) => e.type === 'game.finished');
  if (finished.length !== 1) throw new ReplayError(`replay: expected one game.finished, found ${finished.length}`);
  const recorded = finished[0].payload as GameFinishedPayload;
  const game = completeInfoGame(recorded.game);
  const moves = events.flatMap((e, index) => (e.type === 'game.move' ? [{ index, payload: e.payload }] : []));
  const made: number[] = [];
  const choices: Array<number | null> = [];
  let invalidCount = 0;
  let retries = 0;
  let cursor = 0;
  for (let decision = nextDecision(game, made); decision && cursor < moves.length; decision = nextDecision(game, made)) {
    const ply = choices.length;
    let chosen: number | null = null;
    while (cursor < moves.length && chosen === null) {
      const { index, payload } = moves[cursor];
      const where = `event ${index} (match ${payload.matchId}, ply ${payload.ply}, attempt ${payload.attempt ?? 0})`;
      if (payload.ply !== ply) throw new ReplayError(`${where}: expected ply ${ply}`);
      if (payload.matchId !== recorded.matchId) throw new ReplayError(`${where}: belongs to another match`);
      if (payload.seat !== decision.seat) throw new ReplayError(`${where}: seat ${payload.seat}, expected ${decision.seat}`);
      if (payload.observation !== renderMessages(decision.messages))
        throw new ReplayError(`${where}: observation differs from the rebuilt prompt`);
      const parsed = parseChoice(payload.rawText ?? '', decision.choices);
      if ((payload.action ?? null) !== (parsed.ok ? parsed.choice - 1 : null))
        throw new ReplayError(`${where}: recorded action ${payload.action} but the reply parses to ${parsed.ok ? parsed.choice - 1 : 'nothing'}`);
      if ((payload.attempt ?? 0) > 0) retries += 1;
      if (parsed.ok) chosen = parsed.choice;
      else invalidCount += 1;
      cursor += 1;
    }
    choices.push(chosen);
    if (chosen === null) break;
    made.push(chosen);
  }
  if (choices.at(-1) !== null && nextDecision(game, made) !== null)
    throw new ReplayError(`replay: the log ends before the trial does (after ${choices.length} decisions)`);
  if (cursor !== moves.length) throw new ReplayError(`replay: ${moves.length - cursor} game.move events after the trial ended`);
  const verdict = judgeTrial(game, choices);
  const recomputed = {
    outcome: verdict.outcome,
    returns: verdict.returns,
    paretoOptimalEquilibrium: verdict.paretoOptimalEquilibrium,
    invalidCount,
    retries,
  };
  const matches =
    recomputed.outcome === recorded.outcome &&
    JSON.stringify(recomputed.returns) === JSON.stringify(recorded.returns) &&
    recomputed.paretoOptimalEquilibrium === recorded.paretoOptimalEquilibrium &&
    recomputed.invalidCount === recorded.invalidCount &&
    recomputed.retries === recorded.retries;
  return { matchId: recorded.matchId, recorded, recomputed, matches };
}

export { ReplayError };

/**
 * Rebuilds a GTBench match from its events with the engine alone: applies recorded chance and engine-opponent
 * actions (checking legality), re-parses each text player's reply (the agent's, and a text opponent's) on the
 * rebuilt state and checks the recorded action, then recomputes returns and outcome. `resolve` maps the
 * recorded game name to its engine.
 */
export function replayGtbenchMatch(events: readonly GameEvent[], resolve: (game: string) => TextGame): ReplayResult {
  const finished = events.filter((e) => e.type === 'game.finished');
  if (finished.length !== 1) throw new ReplayError(`replay: expected one game.finished, found ${finished.length}`);
  const recorded = finished[0].payload as GameFinishedPayload;
  const { game, parse } = resolve(recorded.game);
  let state = game.initialState();
  // A text opponent (v3: the result names its policy) answers in text like the agent; an engine's moves are actions.
  const textOpponent = recorded.opponentPolicy !== undefined;
  let invalidCount = 0;
  let opponentInvalidCount = 0;
  let retries = 0;
  let failed: 'agent' | 'opponent' | null = null;
  let joint: number[] = [];
  events.forEach((event, index) => {
    if (event.type !== 'game.move') return;
    const move = event.payload;
    const where = `event ${index} (match ${move.matchId}, ply ${move.ply}, ${move.actor})`;
    if (move.matchId !== recorded.matchId) throw new ReplayError(`${where}: belongs to another match`);
    if (failed) throw new ReplayError(`${where}: move after the ${failed} failed to answer`);
    const turn = state.turn();
    if (turn.kind === 'terminal') throw new ReplayError(`${where}: move after the end of the game`);
    const action = move.action;
    if (move.actor === 'chance') {
      if (turn.kind !== 'chance') throw new ReplayError(`${where}: chance outcome at a ${turn.kind} node`);
      if (!state.chanceOutcomes().some((o) => o.action === action)) throw new ReplayError(`${where}: impossible chance outcome ${action}`);
    } else {
      const acting = turn.kind === 'player' ? [turn.player] : turn.kind === 'simultaneous' ? turn.players : [];
      if (!acting.includes(move.seat)) throw new ReplayError(`${where}: seat ${move.seat} is not to move`);
      if ((move.actor === 'agent') !== (move.seat === recorded.agentSeat))
        throw new ReplayError(`${where}: actor does not match the agent's seat ${recorded.agentSeat}`);
      if (move.actor === 'agent' || textOpponent) {
        const parsed = parse(move.rawText ?? '', state, move.seat);
        const reparsed = parsed.ok ? parsed.action : null;
        if (reparsed !== action) throw new ReplayError(`${where}: recorded action ${action}, the reply parses to ${reparsed}`);
        if ((move.attempt ?? 0) > 0 && move.actor === 'agent') retries += 1;
        if (action === null) {
          if (move.actor === 'agent') invalidCount += 1;
          else opponentInvalidCount += 1;
          const last = events.slice(index + 1).find((e) => e.type === 'game.move');
          const reasked =
            last?.type === 'game.move' && last.payload.actor === move.actor && (last.payload.attempt ?? 0) > (move.attempt ?? 0);
          if (!reasked) failed = move.actor === 'agent' ? 'agent' : 'opponent';
          return;
        }
      }
      if (action === null || !state.legalActions(move.seat).includes(action)) throw new ReplayError(`${where}: illegal action ${action}`);
    }
    if (turn.kind === 'simultaneous') {
      joint.push(action as number);
      if (joint.length === turn.players.length) {
        state = state.applyJoint(joint);
        joint = [];
      }
    } else state = state.apply(action as number);
  });
  if (!failed && state.turn().kind !== 'terminal') throw new ReplayError('replay: the log ends before the game does');
  const returns = state.returns();
  const policy = parseInvalidPolicy(recorded.invalidPolicy);
  const ending =
    failed === 'agent'
      ? invalidEnding(policy)
      : failed === 'opponent'
        ? opponentInvalidEnding(policy)
        : { outcome: outcomeFor(returns, recorded.agentSeat), status: 'normal' };
  const recomputed = { outcome: ending.outcome, returns, invalidCount, retries };
  const matches =
    ending.outcome === recorded.outcome &&
    ending.status === recorded.status &&
    JSON.stringify(returns) === JSON.stringify(recorded.returns) &&
    invalidCount === recorded.invalidCount &&
    retries === recorded.retries &&
    (!textOpponent ||
      (opponentInvalidCount === recorded.opponentInvalidCount &&
        (failed === 'opponent') === (recorded.fault === 'opponent')));
  return { matchId: recorded.matchId, recorded, recomputed, matches };
}
