import { validatePayload } from '@recon/contracts';
import { backwardInduction } from '../solvers/game-tree';
import {
  MONOPOLY,
  PRISONERS_DILEMMA,
  SEQUENTIAL_GAMES,
  STAG_HUNT,
  sequentialPrompt,
  type SequentialGame,
} from '../complete-info';
import { ScriptedAgent, parseInvalidPolicy, type Agent, type Observation } from '../protocol/agent';
import { COMPLETE_INFO_GAMES, runCompleteInfoTrial, runCompleteInfoTrials, type CompleteInfoGame } from './complete-info-trial';
import { equilibriumFrequency } from '../metrics/match-metrics';
import { replayCompleteInfoTrial } from './replay';
import { scheduleMatches } from './schedule';
import type { GameEvent } from './events';

const ruleLines = (game: SequentialGame) =>
  sequentialPrompt(game, [])[1].content.split('\n').filter((l) => l.includes('the game ends'));

/**
 * Plays the subgame-perfect choice in sequential games and choice_2 in simultaneous ones, after reasoning
 * that repeats a tag inside <think> (so the parser must skip it). Reads only its observation.
 */
class RationalAgent implements Agent {
  readonly name = 'rational';
  act({ messages }: Observation): Promise<string> {
    const text = messages[1].content;
    const game = SEQUENTIAL_GAMES.find((g) => ruleLines(g).every((r) => text.includes(r)));
    if (!game) return Promise.resolve('<think>choice_2 dominates, not <s>choice_1</s></think> <s>choice_2</s>');
    const history = (text.match(/chose choice_(\d)/g) ?? []).map((m) => Number(m.slice(-1)));
    return Promise.resolve(`<s>choice_${backwardInduction(game.tree).path[history.length]}</s>`);
  }
}

async function play(game: CompleteInfoGame, agent: Agent, policy = 'reask:5') {
  const events: GameEvent[] = [];
  const finished = await runCompleteInfoTrial(game, agent, {
    matchId: `run/${game.name}/0`,
    stage: 'test',
    seed: 7,
    policy: parseInvalidPolicy(policy),
    emit: (e) => void events.push(e),
  });
  return { finished, events };
}

describe('complete-information self-play trials', () => {
  it("records the Prisoner's Dilemma equilibrium with every decision as a valid event", async () => {
    const { finished, events } = await play(PRISONERS_DILEMMA, new RationalAgent());
    expect(finished).toMatchObject({
      outcome: 'equilibrium',
      paretoOptimalEquilibrium: true,
      returns: [1, 1],
      retries: 0,
      invalidPolicy: 'reask:5',
    });
    expect(events.map((e) => e.type)).toEqual(['game.move', 'game.move', 'game.finished']);
    expect(events.map((e) => (e.type === 'game.move' ? e.payload.seat : -1))).toEqual([0, 1, -1]);
    events.forEach((e) => validatePayload(e.type, 1, e.payload));
  });

  it.each(SEQUENTIAL_GAMES.map((game) => ({ name: game.name, game })))(
    'plays $name along the subgame-perfect path',
    async ({ game }) => {
      const { finished, events } = await play(game, new RationalAgent());
      const path = events.flatMap((e) => (e.type === 'game.move' ? [(e.payload.action ?? -9) + 1] : []));
      expect(path).toEqual(backwardInduction(game.tree).path);
      expect(finished.outcome).toBe('equilibrium');
    },
  );

  it('judges Stag Hunt (2,2) an equilibrium but not Pareto-optimal, and Monopoly off the SPE path a non-equilibrium', async () => {
    expect((await play(STAG_HUNT, new ScriptedAgent('hare', ['<s>choice_2</s>']))).finished).toMatchObject({
      outcome: 'equilibrium',
      paretoOptimalEquilibrium: false,
    });
    expect((await play(MONOPOLY, new ScriptedAgent('out', ['<s>choice_1</s>']))).finished).toMatchObject({
      outcome: 'non-equilibrium',
      returns: [0, 2],
    });
  });

  it('re-asks after invalid replies and makes the trial invalid after the last re-ask', async () => {
    const flaky = new ScriptedAgent('flaky', ['I would rather not say', '<s>choice_9</s>', '<s>choice_1</s>']);
    expect((await play(STAG_HUNT, flaky)).finished).toMatchObject({ outcome: 'equilibrium', invalidCount: 4, retries: 4 }) // two per player;
    const { finished, events } = await play(STAG_HUNT, new ScriptedAgent('silent', ['no tags']));
    expect(finished).toMatchObject({ outcome: 'invalid', invalidCount: 6, retries: 5, returns: [] });
    expect(events).toHaveLength(7);
    const forfeit = await play(STAG_HUNT, new ScriptedAgent('silent', ['no tags']), 'forfeit');
    expect(forfeit.finished).toMatchObject({ outcome: 'invalid', invalidCount: 1, retries: 0, invalidPolicy: 'forfeit' });
  });

  it('rejects a malformed invalid-output policy by name', () => {
    expect(() => parseInvalidPolicy('reask')).toThrow(/'reask'.*reask:<k>/);
  });
});

describe('replay from events alone', () => {
  const agents = () => [
    new RationalAgent(),
    new ScriptedAgent('alternating', ['<s>choice_1</s>', 'junk', '<s>_choice_2</s>', '<s>choice_3</s>']),
    new ScriptedAgent('silent', ['nothing']),
  ];

  it('recomputes the recorded result of every game for rational, flaky and silent agents', async () => {
    for (const game of COMPLETE_INFO_GAMES) {
      for (const agent of agents()) {
        const { finished, events } = await play(game, agent);
        const replay = replayCompleteInfoTrial(events);
        expect({ game: game.name, agent: agent.name, matches: replay.matches }).toEqual({
          game: game.name,
          agent: agent.name,
          matches: true,
        });
        expect(replay.recomputed.outcome).toBe(finished.outcome);
      }
    }
  });

  it('detects a tampered log', async () => {
    const { events } = await play(PRISONERS_DILEMMA, new RationalAgent());
    const tampered = events.map((e) =>
      e.type === 'game.move' && e.payload.ply === 1 ? { ...e, payload: { ...e.payload, action: 0 } } : e,
    );
    expect(() => replayCompleteInfoTrial(tampered)).toThrow(/event 1 .*ply 1.*recorded action 0/);
    const finished = events.at(-1) as GameEvent;
    const forged = [...events.slice(0, -1), { ...finished, payload: { ...finished.payload, outcome: 'non-equilibrium' } }];
    expect(replayCompleteInfoTrial(forged as GameEvent[]).matches).toBe(false);
    expect(() => replayCompleteInfoTrial(events.slice(1))).toThrow(/ply 1.*expected ply 0/);
  });
});

describe('match schedule', () => {
  it('swaps seats halfway and derives distinct, stable seeds from the run seed', () => {
    const ten = scheduleMatches('run-1', 0, 'tictactoe', 'mcts', 10);
    expect(ten.map((m) => m.agentSeat)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(new Set(ten.map((m) => m.seed)).size).toBe(10);
    expect(scheduleMatches('run-1', 0, 'tictactoe', 'mcts', 10)).toEqual(ten);
    expect(scheduleMatches('run-1', 1, 'tictactoe', 'mcts', 10)[0].seed).not.toBe(ten[0].seed);
    expect(() => scheduleMatches('r', 0, 'g', 'o', 0)).toThrow(/positive integer/);
  });

  it('with a seed scope, plays the same matches under another run id (a replay, a fork)', () => {
    const seeds = (runId: string) => scheduleMatches(runId, 7, 'nim', 'random', 4, 'grpo').map((m) => m.seed);
    expect(seeds('run-a/grpo')).toEqual(seeds('run-a.verify-1/grpo'));
    expect(scheduleMatches('run-a.verify-1/grpo', 7, 'nim', 'random', 1, 'grpo')[0].matchId).toBe('run-a.verify-1/grpo/nim/random/0');
    expect(seeds('x')).not.toEqual(scheduleMatches('x', 7, 'nim', 'random', 4, 'sft').map((m) => m.seed));
  });
});

describe('a run of trials feeds the metrics', () => {
  it('plays 20 Stag Hunt trials with distinct ids and seeds and reports NE / PO-NE frequency', async () => {
    const events: GameEvent[] = [];
    const replies = ['<s>choice_1</s>', '<s>choice_2</s>', 'no answer'];
    const results = await runCompleteInfoTrials(STAG_HUNT, (seed) => new ScriptedAgent(`s${seed}`, [replies[seed % 3]]), {
      runId: 'run-9',
      runSeed: 9,
      trials: 20,
      stage: 'sft',
      emit: (e) => void events.push(e),
    });
    expect(new Set(results.map((r) => r.matchId)).size).toBe(20);
    const byReply = [0, 1, 2].map((k) => results.filter((r) => r.seed % 3 === k).length);
    const report = equilibriumFrequency(results);
    expect(report.trials).toBe(20);
    expect(report.equilibrium.successes).toBe(byReply[0] + byReply[1]);
    expect(report.paretoOptimalEquilibrium.successes).toBe(byReply[0]);
    expect(report.invalidTrials).toBe(byReply[2]);
    expect(events.filter((e) => e.type === 'game.finished')).toHaveLength(20);
  });
});
