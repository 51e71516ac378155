import { validatePayload } from '@recon/contracts';
import { CONNECT4, GTBENCH_TEXT_GAMES, NIM, TICTACTOE, parseConnect4Move, parseNimMove, parseTicTacToeMove } from '../gtbench';
import { mctsMove, randomMove } from '../opponents';
import { RandomTextAgent, ScriptedAgent, parseInvalidPolicy, type Agent, type Observation, type Opponent, type TextGame, type TextOpponent } from '../protocol/agent';
import { createRng } from '../rng/rng';
import { runGtbenchMatch } from './gtbench-match';
import { replayGtbenchMatch } from './replay';
import { scheduleMatches } from './schedule';
import type { GameEvent } from './events';

const TEXT_GAMES: Record<string, TextGame> = {
  tictactoe: { game: TICTACTOE, parse: parseTicTacToeMove },
  connect4: { game: CONNECT4, parse: parseConnect4Move },
  nim: { game: NIM, parse: parseNimMove },
};
const resolve = (name: string) => {
  const found = TEXT_GAMES[name];
  if (!found) throw new Error(`no engine '${name}'`);
  return found;
};

/** Answers a uniformly random legal move in the engine's notation, after some reasoning text. */
const randomTextAgent = (seed: number) =>
  new RandomTextAgent(seed, (move, legalMoves) => `<think>considering ${legalMoves[0]}</think>I play ${move}`);

const random: Opponent = { name: 'random', move: randomMove };
const mcts: Opponent = { name: 'mcts-50', move: (s, p, rng) => mctsMove(s, p, rng, { simulations: 50 }) };

async function playCell(game: string, opponent: Opponent, count: number, agentFor: (seed: number) => Agent, policy = 'abnormal') {
  const matches = [];
  for (const match of scheduleMatches('run-t', 3, game, opponent.name, count)) {
    const events: GameEvent[] = [];
    const finished = await runGtbenchMatch(resolve(game), agentFor(match.seed), opponent, {
      match,
      stage: 'test',
      policy: parseInvalidPolicy(policy),
      emit: (e) => void events.push(e),
    });
    matches.push({ match, finished, events });
  }
  return matches;
}

describe('GTBench matches through the text protocol', () => {
  it.each([
    ['tictactoe', random],
    ['tictactoe', mcts],
    ['connect4', random],
    ['nim', mcts],
  ] as const)('%s vs %s: valid events, seats swapped, every match replays to its result', async (game, opponent) => {
    const played = await playCell(game, opponent, 4, randomTextAgent);
    expect(played.map((p) => p.finished.agentSeat)).toEqual([0, 0, 1, 1]);
    for (const { finished, events } of played) {
      events.forEach((e) => validatePayload(e.type, 1, e.payload));
      expect(finished.status).toBe('normal');
      expect(['win', 'draw', 'loss']).toContain(finished.outcome);
      const replay = replayGtbenchMatch(events, resolve);
      expect(replay.recomputed.outcome).toBe(finished.outcome);
      expect(replay.matches).toBe(true);
    }
  });

  it('is deterministic from the run seed', async () => {
    const first = await playCell('tictactoe', mcts, 2, randomTextAgent);
    const second = await playCell('tictactoe', mcts, 2, randomTextAgent);
    expect(second.map((p) => p.events)).toEqual(first.map((p) => p.events));
  });

  it('applies the invalid-output policy and records it: abnormal, forfeit, reask', async () => {
    const mute = () => new ScriptedAgent('mute', ['I pass']);
    const [abnormal] = await playCell('tictactoe', random, 1, mute, 'abnormal');
    expect(abnormal.finished).toMatchObject({ outcome: 'abnormal', status: 'abnormal', invalidCount: 1, invalidPolicy: 'abnormal' });
    const [forfeit] = await playCell('tictactoe', random, 1, mute, 'forfeit');
    expect(forfeit.finished).toMatchObject({ outcome: 'loss', status: 'normal', invalidCount: 1 });
    const [exhausted] = await playCell('nim', random, 1, mute, 'reask:2');
    expect(exhausted.finished).toMatchObject({ outcome: 'abnormal', invalidCount: 3, retries: 2 });
    const recovering = () => new ScriptedAgent('late', ['hmm', '<C2R2>', '<C1R1>', '<C3R3>', '<C1R3>', '<C3R1>', '<C2R1>', '<C1R2>', '<C3R2>', '<C2R3>']);
    const [recovered] = await playCell('tictactoe', random, 1, recovering, 'reask:20');
    expect(recovered.finished.status).toBe('normal');
    expect(recovered.finished.invalidCount).toBeGreaterThanOrEqual(1);
    for (const played of [abnormal, forfeit, exhausted, recovered]) {
      expect(replayGtbenchMatch(played.events, resolve).matches).toBe(true);
    }
  });

  it('refuses a tampered log, naming the event', async () => {
    const [{ events }] = await playCell('tictactoe', random, 1, randomTextAgent);
    const at = events.findIndex((e) => e.type === 'game.move' && e.payload.actor === 'opponent');
    const tampered = events.map((e, i) =>
      i === at && e.type === 'game.move' ? { ...e, payload: { ...e.payload, action: 99 } } : e,
    );
    expect(() => replayGtbenchMatch(tampered, resolve)).toThrow(new RegExp(`event ${at} .*illegal action 99`));
    expect(() => replayGtbenchMatch(events.slice(0, -2).concat(events.slice(-1)), resolve)).toThrow(/ends before the game/);
  });
});

/** Answers exactly one of the observation's replies, uniformly, remembering which legal move it stood for. */
class ReplyPickingAgent implements Agent {
  readonly name = 'reply-picker';
  readonly picked: Array<{ reply: string; move: string }> = [];
  private readonly rng;
  constructor(seed: number) {
    this.rng = createRng(seed);
  }
  act({ legalMoves, replies }: Observation): Promise<string> {
    expect(replies).toHaveLength(legalMoves.length);
    const i = this.rng.int(replies.length);
    this.picked.push({ reply: replies[i], move: legalMoves[i] });
    return Promise.resolve(replies[i]);
  }
}

describe('legal replies exposed to constrained decoding', () => {
  it.each(GTBENCH_TEXT_GAMES.map((t) => [t.game.name, t] as const))(
    "%s: every offered reply parses to its own legal move, and the decoding mode is recorded",
    async (_name, textGame) => {
      for (const match of scheduleMatches('run-r', 5, textGame.game.name, 'random', 4)) {
        const agent = new ReplyPickingAgent(match.seed);
        const events: GameEvent[] = [];
        const finished = await runGtbenchMatch(textGame, agent, random, {
          match,
          stage: 'test',
          emit: (e) => void events.push(e),
          decoding: 'constrained',
        });
        expect(finished).toMatchObject({ status: 'normal', invalidCount: 0, decoding: 'constrained' });
        const agentMoves = events.flatMap((e) => (e.type === 'game.move' && e.payload.actor === 'agent' ? [e.payload] : []));
        expect(agentMoves.map((m) => m.parsedMove)).toEqual(agent.picked.map((p) => p.move));
        agentMoves.forEach((m) => expect(m.decoding).toBe('constrained'));
        events
          .filter((e) => e.type === 'game.move' && e.payload.actor !== 'agent')
          .forEach((e) => expect(e.payload).not.toHaveProperty('decoding'));
        events.forEach((e) => validatePayload(e.type, 2, e.payload));
        expect(replayGtbenchMatch(events, (n) => GTBENCH_TEXT_GAMES.find((t) => t.game.name === n)!).matches).toBe(true);
      }
    },
  );

  it('leaves the decoding field out when no mode is named, so earlier runs replay byte for byte', async () => {
    const [{ events }] = await playCell('nim', random, 1, randomTextAgent);
    events.forEach((e) => expect(e.payload).not.toHaveProperty('decoding'));
  });

  it('the v2 contract rejects an unknown decoding mode and v1 still rejects the field', async () => {
    const [{ finished }] = await playCell('nim', random, 1, randomTextAgent);
    expect(() => validatePayload('game.finished', 2, { ...finished, decoding: 'beam' })).toThrow(/decoding/);
    expect(() => validatePayload('game.finished', 1, { ...finished, decoding: 'free' })).toThrow();
    expect(() => validatePayload('game.finished', 2, { ...finished, extra: 1 })).toThrow();
  });
});

describe('a text opponent (an LLM or a checkpoint) through the same protocol', () => {
  const textOpponent = (agent: Agent): TextOpponent => ({ name: 'llm', agent, policy: 'openai:m@http://127.0.0.1:1/v1' });
  const playText = async (game: string, agent: () => Agent, opponent: () => Agent, policy = 'abnormal') => {
    const played = [];
    for (const match of scheduleMatches('run-x', 4, game, 'llm', 2)) {
      const events: GameEvent[] = [];
      const finished = await runGtbenchMatch(resolve(game), agent(), textOpponent(opponent()), {
        match,
        stage: 'test',
        policy: parseInvalidPolicy(policy),
        emit: (e) => void events.push(e),
      });
      played.push({ finished, events });
    }
    return played;
  };

  it('records its replies as opponent moves, its policy on the result, and replays', async () => {
    let seed = 0;
    for (const { finished, events } of await playText('tictactoe', () => randomTextAgent(seed++), () => randomTextAgent(seed++))) {
      expect(finished).toMatchObject({ status: 'normal', opponent: 'llm', opponentPolicy: 'openai:m@http://127.0.0.1:1/v1', opponentInvalidCount: 0 });
      expect(finished).not.toHaveProperty('fault');
      const opponentMoves = events.flatMap((e) => (e.type === 'game.move' && e.payload.actor === 'opponent' ? [e.payload] : []));
      expect(opponentMoves.length).toBeGreaterThan(0);
      opponentMoves.forEach((m) => expect(m).toMatchObject({ rawText: expect.stringContaining('I play'), observation: expect.any(String), legal: true, attempt: 0 }));
      events.forEach((e) => validatePayload(e.type, 3 - Number(e.type === 'game.move'), e.payload));
      expect(() => validatePayload('game.finished', 2, finished)).toThrow(/opponent/);
      expect(replayGtbenchMatch(events, resolve).matches).toBe(true);
    }
  });

  it('ends the match on its invalid reply under the same policy as the agent, naming it at fault', async () => {
    const mute = () => new ScriptedAgent('mute', ['I pass']);
    const [first, second] = await playText('nim', () => randomTextAgent(1), mute, 'abnormal');
    // Seat 0 (the agent) moves first, so the opponent fails at ply 1; seated first, it fails at once.
    expect(first.finished).toMatchObject({ outcome: 'abnormal', status: 'abnormal', fault: 'opponent', invalidCount: 0, opponentInvalidCount: 1 });
    expect(second.finished).toMatchObject({ outcome: 'abnormal', fault: 'opponent', opponentInvalidCount: 1 });
    const [forfeit] = await playText('nim', () => randomTextAgent(1), mute, 'forfeit');
    expect(forfeit.finished).toMatchObject({ outcome: 'win', status: 'normal', fault: 'opponent' });
    const [reasked] = await playText('nim', () => randomTextAgent(1), mute, 'reask:2');
    expect(reasked.finished).toMatchObject({ outcome: 'abnormal', fault: 'opponent', opponentInvalidCount: 3, retries: 0 });
    const [agentFails] = await playText('nim', mute, () => randomTextAgent(1), 'abnormal');
    expect(agentFails.finished).toMatchObject({ outcome: 'abnormal', invalidCount: 1, opponentInvalidCount: 0 });
    expect(agentFails.finished).not.toHaveProperty('fault');
    for (const played of [first, second, forfeit, reasked, agentFails]) expect(replayGtbenchMatch(played.events, resolve).matches).toBe(true);
    const tampered = first.events.map((e) =>
      e.type === 'game.finished' ? { ...e, payload: { ...e.payload, opponentInvalidCount: 0 } } : e,
    );
    expect(replayGtbenchMatch(tampered, resolve).matches).toBe(false);
  });
});
