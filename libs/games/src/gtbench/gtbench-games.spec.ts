import { validatePayload } from '@recon/contracts';
import type { GameState, PlayerId } from '../core/game';
import { replayGtbenchMatch, runGtbenchMatch, scheduleMatches, type GameEvent } from '../match';
import { randomMove, titForTatMove } from '../opponents';
import { RandomTextAgent, type Opponent } from '../protocol/agent';
import { createRng, deriveSeed, sampleOutcome, type Rng } from '../rng';
import { GTBENCH_GAMES, GTBENCH_TEXT_GAMES, gtbenchTextGame, samplesInformationSet } from '.';

const HIDDEN_INFORMATION = ['first_sealed_auction', 'kuhn_poker', 'liars_dice', 'negotiation'];
const ZERO_SUM = ['tictactoe', 'connect4', 'breakthrough', 'kuhn_poker', 'liars_dice', 'nim', 'pig'];

/** Every decision of a seeded random-vs-random match, then its terminal state and ply count. */
function randomMatch(name: string, seed: number) {
  const { game } = gtbenchTextGame(name);
  const rng = createRng(seed);
  const decisions: Array<{ state: GameState; players: PlayerId[] }> = [];
  let state = game.initialState();
  let plies = 0;
  for (let turn = state.turn(); turn.kind !== 'terminal'; turn = state.turn(), plies += 1) {
    if (plies > 50_000) throw new Error(`${name} seed ${seed}: no terminal state after 50,000 plies`);
    if (turn.kind === 'chance') state = state.apply(sampleOutcome(state.chanceOutcomes(), rng));
    else if (turn.kind === 'player') {
      decisions.push({ state, players: [turn.player] });
      state = state.apply(randomMove(state, turn.player, rng));
    } else {
      decisions.push({ state, players: turn.players });
      const current = state;
      state = state.applyJoint(turn.players.map((p) => randomMove(current, p, rng)));
    }
  }
  return { decisions, end: state, plies };
}

describe('the GTBench registry', () => {
  it('holds the ten games in games.md order, each with its parser', () => {
    const names = ['tictactoe', 'connect4', 'breakthrough', 'first_sealed_auction', 'kuhn_poker', 'liars_dice', 'negotiation', 'nim', 'pig', 'prisoners_dilemma'];
    expect(GTBENCH_GAMES.map((g) => g.name)).toEqual(names);
    expect(GTBENCH_TEXT_GAMES.map((t) => t.game)).toEqual(GTBENCH_GAMES);
    expect(GTBENCH_GAMES.every((g) => g.suite === 'gtbench' && g.numPlayers === 2)).toBe(true);
    expect(() => gtbenchTextGame('chess')).toThrow(/no GTBench game 'chess'/);
  });
});

describe.each(GTBENCH_TEXT_GAMES.map((t) => t.game.name))('%s', (name) => {
  const { parse } = gtbenchTextGame(name);
  const matches = Array.from({ length: 40 }, (_, i) => randomMatch(name, deriveSeed(11, name, i)));

  it('ends every seeded random-vs-random match, with one return per seat', () => {
    for (const { end } of matches) {
      expect(end.turn()).toEqual({ kind: 'terminal' });
      expect(end.returns()).toHaveLength(2);
      end.returns().forEach((r) => expect(Number.isFinite(r)).toBe(true));
      if (ZERO_SUM.includes(name)) expect(end.returns()[0] + end.returns()[1]).toBe(0);
    }
  });

  it('parses the notation of every legal move back to that move, at every decision met', () => {
    let checked = 0;
    for (const { decisions } of matches.slice(0, 10)) {
      for (const { state, players } of decisions) {
        for (const player of players) {
          for (const action of state.legalActions(player)) {
            const text = state.actionToString(player, action);
            const parsed = parse(`Action: ${text}`, state, player);
            if (!parsed.ok || parsed.action !== action) throw new Error(`${name}: ${text} (action ${action}) parses to ${JSON.stringify(parsed)} in ${state}`);
            checked += 1;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  const hidden = HIDDEN_INFORMATION.includes(name);
  it(hidden ? 'draws states from an information set that look the same to the seat, with the hidden part redrawn' : 'has no hidden information to sample', () => {
    const states = matches.flatMap((m) => m.decisions);
    expect(states.length).toBeGreaterThan(0);
    expect(states.filter(({ state }) => samplesInformationSet(state))).toHaveLength(hidden ? states.length : 0);
    if (!hidden) return;
    const rng: Rng = createRng(5);
    let redrawn = 0;
    for (const { state, players: [player] } of states.slice(0, 60)) {
      if (!samplesInformationSet(state)) continue;
      for (let k = 0; k < 5; k += 1) {
        const drawn = state.sampleInformationSet(player, rng);
        expect(drawn.observationString(player)).toBe(state.observationString(player));
        expect(drawn.legalActions(player)).toEqual(state.legalActions(player));
        expect(drawn.turn()).toEqual(state.turn());
        if (drawn.toString() !== state.toString()) redrawn += 1;
      }
    }
    expect(redrawn).toBeGreaterThan(0);
  });
});

/** Names a uniformly random legal move after some reasoning text, like a model would. */
const randomTextAgent = (seed: number) =>
  new RandomTextAgent(seed, (move, legalMoves) => `<think>maybe ${legalMoves[0]}</think>\nAction: ${move}`);

describe('the match runner with the new games', () => {
  const random: Opponent = { name: 'random', move: randomMove };
  const titForTat: Opponent = { name: 'tit-for-tat', move: titForTatMove };

  it.each(['breakthrough', 'first_sealed_auction', 'kuhn_poker', 'liars_dice', 'negotiation', 'pig', 'prisoners_dilemma'])(
    '%s: valid events, a normal result, and a replay that recomputes it',
    async (name) => {
      const opponent = name === 'prisoners_dilemma' ? titForTat : random;
      for (const match of scheduleMatches('run-g', 5, name, opponent.name, 4)) {
        const events: GameEvent[] = [];
        const finished = await runGtbenchMatch(gtbenchTextGame(name), randomTextAgent(match.seed), opponent, {
          match,
          stage: 'test',
          emit: (e) => void events.push(e),
        });
        events.forEach((e) => validatePayload(e.type, 1, e.payload));
        expect(finished.status).toBe('normal');
        expect(finished.invalidCount).toBe(0);
        expect(replayGtbenchMatch(events, gtbenchTextGame).matches).toBe(true);
      }
    },
  );
});
