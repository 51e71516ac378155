import type { RecordedEvent } from '@recon/eventlog';
import {
  completeInfoGame,
  gtbenchTextGame,
  nextDecision,
  parseChoice,
  replayCompleteInfoTrial,
  replayGtbenchMatch,
  type CompleteInfoGame,
  type GameEvent,
  type GameFinishedPayload,
  type GameMovePayload,
  type GameState,
  type GameTree,
} from '@recon/games';

/** One finished match or trial as the replay list shows it. */
export interface MatchSummary {
  matchId: string;
  game: string;
  suite: GameFinishedPayload['suite'];
  stage: string;
  opponent: string;
  agentSeat: number;
  outcome: GameFinishedPayload['outcome'];
  status: GameFinishedPayload['status'];
  paretoOptimalEquilibrium: boolean | null;
  returns: number[];
  invalidCount: number;
  retries: number;
  moves: number;
}

export interface MatchFilter {
  game?: string;
  stage?: string;
  opponent?: string;
  outcome?: string;
}

export interface MatchPage {
  total: number;
  offset: number;
  matches: MatchSummary[];
  /** The values each filter can take in this run (for the filter menus). */
  facets: { game: string[]; stage: string[]; opponent: string[]; outcome: string[] };
}

/** One recorded move with what the viewer shows beside it. */
export interface ReplayedMove {
  position: number;
  ply: number;
  actor: GameMovePayload['actor'];
  seat: number;
  attempt: number;
  observation: string | null;
  rawText: string | null;
  parsedMove: string | null;
  action: number | null;
  legal: boolean;
  /** Why the reply is not a legal move (the game's own parser, re-run on the reply); null when legal. */
  invalidReason: string | null;
  /** The game state after this move (GTBench: the engine's state; complete-information: the choices so far). */
  stateAfter: string | null;
  /** Returns per seat after this move (GTBench engines with running totals). */
  returnsAfter: number[] | null;
}

export interface MatchReplay {
  summary: MatchSummary;
  finished: GameFinishedPayload;
  /** Complete-information games: the payoff table (simultaneous) or tree (sequential) the players saw. */
  payoffs: string | null;
  moves: ReplayedMove[];
  /** The outcome recomputed from the moves alone (libs/games replay): does it match the recorded one? */
  check: { matches: boolean; recomputedOutcome: string | null; problem: string | null };
}

const movesOf = (events: readonly RecordedEvent[]) =>
  events.filter((e) => e.type === 'game.move' && !e.tombstonedBy);
const finishedOf = (events: readonly RecordedEvent[]) =>
  events.filter((e) => e.type === 'game.finished' && !e.tombstonedBy);

function summaryOf(finished: GameFinishedPayload, moves: number): MatchSummary {
  return {
    matchId: finished.matchId,
    game: finished.game,
    suite: finished.suite,
    stage: finished.stage,
    opponent: finished.opponent,
    agentSeat: finished.agentSeat,
    outcome: finished.outcome,
    status: finished.status,
    paretoOptimalEquilibrium: finished.paretoOptimalEquilibrium ?? null,
    returns: finished.returns,
    invalidCount: finished.invalidCount,
    retries: finished.retries,
    moves,
  };
}

const distinct = (values: string[]) => [...new Set(values)].sort();

/** The run's finished matches, filtered, a page at a time, in the order they finished. */
export function listMatches(
  events: readonly RecordedEvent[],
  filter: MatchFilter,
  page: { offset: number; limit: number },
): MatchPage {
  const moveCounts = new Map<string, number>();
  for (const e of movesOf(events)) {
    const id = (e.payload as GameMovePayload).matchId;
    moveCounts.set(id, (moveCounts.get(id) ?? 0) + 1);
  }
  const all = finishedOf(events).map((e) => e.payload as GameFinishedPayload);
  const shown = all.filter(
    (m) =>
      (!filter.game || m.game === filter.game) &&
      (!filter.stage || m.stage === filter.stage) &&
      (!filter.opponent || m.opponent === filter.opponent) &&
      (!filter.outcome || m.outcome === filter.outcome),
  );
  return {
    total: shown.length,
    offset: page.offset,
    matches: shown
      .slice(page.offset, page.offset + page.limit)
      .map((m) => summaryOf(m, moveCounts.get(m.matchId) ?? 0)),
    facets: {
      game: distinct(all.map((m) => m.game)),
      stage: distinct(all.map((m) => m.stage)),
      opponent: distinct(all.map((m) => m.opponent)),
      outcome: distinct(all.map((m) => m.outcome)),
    },
  };
}

/** A payoff matrix as text: Alice's choices in rows, Bob's in columns, each cell `Alice, Bob`. */
function payoffTable(payoffs: ReadonlyArray<ReadonlyArray<readonly [number, number]>>): string {
  const head = ['Alice \\ Bob', ...payoffs[0].map((_, j) => `choice_${j + 1}`)];
  const rows = payoffs.map((row, i) => [`choice_${i + 1}`, ...row.map(([a, b]) => `${a}, ${b}`)]);
  const width = head.map((_, k) => Math.max(...[head, ...rows].map((r) => r[k].length)));
  return [head, ...rows].map((r) => r.map((c, k) => c.padEnd(width[k])).join('  ')).join('\n');
}

function payoffTree(tree: GameTree, path = '', depth = 0): string[] {
  const indent = '  '.repeat(depth);
  if (tree.kind === 'leaf') return [`${indent}${path}→ Alice ${tree.rewards[0]}, Bob ${tree.rewards[1]}`];
  return [
    `${indent}${path}${tree.player} chooses:`,
    ...tree.children.flatMap((child, k) => payoffTree(child, `choice_${k + 1} `, depth + 1)),
  ];
}

const payoffsText = (game: CompleteInfoGame) =>
  game.kind === 'simultaneous' ? payoffTable(game.payoffs) : payoffTree(game.tree).join('\n');

/** Complete-information trial: each move's invalid reason and the choices made so far. */
function completeInfoMoves(game: CompleteInfoGame, moves: GameMovePayload[]): Array<Partial<ReplayedMove>> {
  const made: number[] = [];
  return moves.map((move) => {
    const decision = nextDecision(game, made);
    const parsed = decision ? parseChoice(move.rawText ?? '', decision.choices) : null;
    if (move.legal && move.action !== null) made.push(move.action + 1);
    return {
      invalidReason: move.legal ? null : parsed && !parsed.ok ? parsed.reason : 'not a legal choice',
      stateAfter: made.length > 0 ? `choices so far: ${made.map((c) => `choice_${c}`).join(', ')}` : null,
      returnsAfter: null,
    };
  });
}

const rows = (cells: string, width: number) => cells.match(new RegExp(`.{1,${width}}`, 'g')) ?? [];

/** The engine's state as a reader sees a board: grid games drawn row by row (top row first), others as recorded. */
export function boardText(game: string, state: GameState): string {
  const text = state.toString();
  switch (game) {
    case 'tictactoe':
      return rows(text, 3).join('\n');
    case 'connect4': // row 0 is the bottom row
      return rows(text, 7).reverse().join('\n');
    case 'breakthrough': {
      const [board, toMove] = text.split('|');
      return `${board.split('/').join('\n')}\n(seat ${toMove} to move)`;
    }
    default:
      return text;
  }
}

/** GTBench match: the engine's state and running returns after each move, and why a reply did not parse. */
function gtbenchMoves(gameName: string, moves: GameMovePayload[]): Array<Partial<ReplayedMove>> {
  const { game, parse } = gtbenchTextGame(gameName);
  let state: GameState = game.initialState();
  let joint: number[] = [];
  const out: Array<Partial<ReplayedMove>> = [];
  for (const move of moves) {
    let invalidReason: string | null = null;
    if (move.actor !== 'chance' && move.rawText !== undefined && !move.legal) {
      const parsed = parse(move.rawText, state, move.seat);
      invalidReason = parsed.ok ? `parsed as ${parsed.matched}, which is not legal here` : parsed.reason;
    }
    if (move.legal && move.action !== null) {
      const turn = state.turn();
      if (turn.kind === 'simultaneous') {
        joint.push(move.action);
        if (joint.length === turn.players.length) {
          state = state.applyJoint(joint);
          joint = [];
        }
      } else state = state.apply(move.action);
    }
    out.push({ invalidReason, stateAfter: boardText(gameName, state), returnsAfter: state.returns() });
  }
  return out;
}

/** One match move by move: prompts, replies, parsed moves or why invalid, states, outcome and its replay check. */
export function matchReplay(events: readonly RecordedEvent[], matchId: string): MatchReplay | null {
  const finishedEvent = finishedOf(events).find(
    (e) => (e.payload as GameFinishedPayload).matchId === matchId,
  );
  if (!finishedEvent) return null;
  const finished = finishedEvent.payload as GameFinishedPayload;
  const moveEvents = movesOf(events).filter((e) => (e.payload as GameMovePayload).matchId === matchId);
  const moves = moveEvents.map((e) => e.payload as GameMovePayload);
  const gameEvents: GameEvent[] = [
    ...moves.map((payload): GameEvent => ({ type: 'game.move', payload })),
    { type: 'game.finished', payload: finished },
  ];
  let payoffs: string | null = null;
  let extra: Array<Partial<ReplayedMove>> = [];
  let check: MatchReplay['check'];
  try {
    if (finished.suite === 'complete-information') {
      const game = completeInfoGame(finished.game);
      payoffs = payoffsText(game);
      extra = completeInfoMoves(game, moves);
    } else extra = gtbenchMoves(finished.game, moves);
    const replayed =
      finished.suite === 'complete-information'
        ? replayCompleteInfoTrial(gameEvents)
        : replayGtbenchMatch(gameEvents, gtbenchTextGame);
    check = { matches: replayed.matches, recomputedOutcome: replayed.recomputed.outcome, problem: null };
  } catch (error) {
    check = { matches: false, recomputedOutcome: null, problem: (error as Error).message };
  }
  return {
    summary: summaryOf(finished, moves.length),
    finished,
    payoffs,
    moves: moveEvents.map((e, i) => {
      const m = moves[i];
      return {
        position: e.position,
        ply: m.ply,
        actor: m.actor,
        seat: m.seat,
        attempt: m.attempt ?? 0,
        observation: m.observation ?? null,
        rawText: m.rawText ?? null,
        parsedMove: m.parsedMove ?? null,
        action: m.action,
        legal: m.legal,
        invalidReason: extra[i]?.invalidReason ?? (m.legal ? null : 'not a legal move'),
        stateAfter: extra[i]?.stateAfter ?? null,
        returnsAfter: extra[i]?.returnsAfter ?? null,
      };
    }),
    check,
  };
}
