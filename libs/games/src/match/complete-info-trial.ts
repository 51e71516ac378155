import {
  parseChoice,
  sequentialPrompt,
  simultaneousPrompt,
  label,
  deciderAt,
  type ChatMessage,
} from '../complete-info/prompts';
import { SIMULTANEOUS_GAMES, type SimultaneousGame } from '../complete-info/simultaneous-games';
import { SEQUENTIAL_GAMES, type GameTree, type SequentialGame } from '../complete-info/sequential-games';
import { paretoOptimalEquilibria, pureNashEquilibria } from '../solvers/bimatrix';
import { backwardInduction } from '../solvers/game-tree';
import { formatInvalidPolicy, reaskBudget, type Agent, type InvalidPolicy } from '../protocol/agent';
import { decodingField, emitFinished, emitMove, type EmitEvent, type GameDecoding, type GameFinishedPayload } from './events';
import { scheduleMatches } from './schedule';

export type CompleteInfoGame = SimultaneousGame | SequentialGame;

export const COMPLETE_INFO_GAMES: readonly CompleteInfoGame[] = [...SIMULTANEOUS_GAMES, ...SEQUENTIAL_GAMES];

export function completeInfoGame(name: string): CompleteInfoGame {
  const game = COMPLETE_INFO_GAMES.find((g) => g.name === name);
  if (!game) throw new Error(`unknown complete-information game '${name}'`);
  return game;
}

/** The text of an observation as recorded in `game.move` (role-tagged, so replay can compare it). */
export const renderMessages = (messages: ChatMessage[]) =>
  messages.map((m) => `[${m.role}]\n${m.content}`).join('\n\n');

export interface TrialOptions {
  matchId: string;
  stage: string;
  /** Recorded with the result; the agent's sampler may derive its own seed from it. */
  seed: number;
  /** Hua protocol correction (games.md §4): re-ask up to 5 times. */
  policy?: InvalidPolicy;
  emit: EmitEvent;
  /** Recorded on the agent's moves and the result when given (see decodingField). */
  decoding?: GameDecoding;
}

export type TrialOutcome = 'equilibrium' | 'non-equilibrium' | 'invalid';

export interface TrialVerdict {
  /** 1-based labels chosen, in decision order; null marks the invalid decision that ended the trial. */
  choices: Array<number | null>;
  outcome: TrialOutcome;
  paretoOptimalEquilibrium: boolean;
  returns: number[];
}

/** Judges a finished trial (games.md §2.2); the same function scores live play and replay. */
export function judgeTrial(game: CompleteInfoGame, choices: Array<number | null>): TrialVerdict {
  if (choices.some((c) => c === null)) {
    return { choices, outcome: 'invalid', paretoOptimalEquilibrium: false, returns: [] };
  }
  const picked = choices as number[];
  if (game.kind === 'simultaneous') {
    const [i, j] = [picked[0] - 1, picked[1] - 1];
    const hit = (list: ReadonlyArray<readonly [number, number]>) => list.some(([a, b]) => a === i && b === j);
    const equilibrium = hit(pureNashEquilibria(game.payoffs));
    return {
      choices,
      outcome: equilibrium ? 'equilibrium' : 'non-equilibrium',
      paretoOptimalEquilibrium: equilibrium && hit(paretoOptimalEquilibria(game.payoffs)),
      returns: [...game.payoffs[i][j]],
    };
  }
  let node: GameTree = game.tree;
  for (const c of picked) {
    if (node.kind === 'leaf') throw new Error(`${game.name}: path ${picked.join('')} runs past a leaf`);
    node = node.children[c - 1];
  }
  if (node.kind !== 'leaf') throw new Error(`${game.name}: path ${picked.join('')} stops before a leaf`);
  // Sequential games have one ground truth, the subgame-perfect path, so NE and PO-NE coincide.
  const equilibrium = backwardInduction(game.tree).path.join('') === picked.join('');
  return {
    choices,
    outcome: equilibrium ? 'equilibrium' : 'non-equilibrium',
    paretoOptimalEquilibrium: equilibrium,
    returns: [...node.rewards],
  };
}

interface Decision {
  seat: number;
  messages: ChatMessage[];
  choices: number;
}

/** The next decision of a trial given the choices so far, or null when the trial is over. */
export function nextDecision(game: CompleteInfoGame, made: number[]): Decision | null {
  if (game.kind === 'simultaneous') {
    if (made.length >= 2) return null;
    const seat = made.length;
    const choices = seat === 0 ? game.payoffs.length : game.payoffs[0].length;
    return { seat, messages: simultaneousPrompt(game, seat === 0 ? 'Alice' : 'Bob'), choices };
  }
  let node: GameTree = game.tree;
  for (const c of made) {
    if (node.kind === 'leaf') return null;
    node = node.children[c - 1];
  }
  if (node.kind === 'leaf') return null;
  return { seat: deciderAt(made.length) === 'Alice' ? 0 : 1, messages: sequentialPrompt(game, made), choices: 2 };
}

/**
 * One self-play trial (games.md §2.1): every decision is a stateless call with its own prompt, asked of the
 * same agent playing Alice and Bob; each reply is parsed, re-asked per the policy, and recorded as a
 * `game.move`; the verdict is recorded as `game.finished`.
 */
export async function runCompleteInfoTrial(
  game: CompleteInfoGame,
  agent: Agent,
  options: TrialOptions,
): Promise<GameFinishedPayload> {
  const policy = options.policy ?? { kind: 'reask', times: 5 };
  const made: number[] = [];
  const choices: Array<number | null> = [];
  let invalidCount = 0;
  let retries = 0;
  let ply = 0;
  for (let decision = nextDecision(game, made); decision; decision = nextDecision(game, made)) {
    const legalMoves = Array.from({ length: decision.choices }, (_, k) => label(k + 1));
    const replies = legalMoves.map((move) => `<s>${move}</s>`);
    let chosen: number | null = null;
    for (let attempt = 0; attempt <= reaskBudget(policy) && chosen === null; attempt += 1) {
      if (attempt > 0) retries += 1;
      const rawText = await agent.act({ messages: decision.messages, legalMoves, replies });
      const parsed = parseChoice(rawText, decision.choices);
      if (!parsed.ok) invalidCount += 1;
      else chosen = parsed.choice;
      await emitMove(options.emit, {
        matchId: options.matchId,
        game: game.name,
        ply,
        actor: 'agent',
        seat: decision.seat,
        observation: renderMessages(decision.messages),
        rawText,
        parsedMove: parsed.ok ? label(parsed.choice) : null,
        action: parsed.ok ? parsed.choice - 1 : null,
        legal: parsed.ok,
        attempt,
        ...decodingField(options.decoding),
      });
    }
    ply += 1;
    choices.push(chosen);
    if (chosen === null) break;
    made.push(chosen);
  }
  const verdict = judgeTrial(game, choices);
  const finished: GameFinishedPayload = {
    matchId: options.matchId,
    game: game.name,
    suite: 'complete-information',
    stage: options.stage,
    opponent: 'self-play',
    agentSeat: -1,
    seed: options.seed,
    returns: verdict.returns,
    outcome: verdict.outcome,
    status: 'normal',
    paretoOptimalEquilibrium: verdict.paretoOptimalEquilibrium,
    invalidCount,
    retries,
    invalidPolicy: formatInvalidPolicy(policy),
    ...decodingField(options.decoding),
  };
  await emitFinished(options.emit, finished);
  return finished;
}

/**
 * All trials of one complete-information game for one run (Recon: 20), each with its own match id and seed
 * from `scheduleMatches`; trials run one after another, so events arrive in order.
 */
export async function runCompleteInfoTrials(
  game: CompleteInfoGame,
  agentFor: (seed: number) => Agent,
  options: {
    runId: string;
    runSeed: number;
    trials: number;
    stage: string;
    policy?: InvalidPolicy;
    emit: EmitEvent;
    decoding?: GameDecoding;
    /** What the trial seeds derive from besides the run seed (see scheduleMatches); default the run id. */
    seedScope?: string;
  },
): Promise<GameFinishedPayload[]> {
  const results: GameFinishedPayload[] = [];
  const schedule = scheduleMatches(options.runId, options.runSeed, game.name, 'self-play', options.trials, options.seedScope);
  for (const match of schedule) {
    results.push(
      await runCompleteInfoTrial(game, agentFor(match.seed), {
        matchId: match.matchId,
        stage: options.stage,
        seed: match.seed,
        policy: options.policy,
        emit: options.emit,
        decoding: options.decoding,
      }),
    );
  }
  return results;
}
