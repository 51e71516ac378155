import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { validatePayload } from '@recon/contracts';
import {
  COMPLETE_INFO_GAMES,
  GTBENCH_TEXT_GAMES,
  randomMove,
  runCompleteInfoTrials,
  runGtbenchMatch,
  scheduleMatches,
  type GameEvent,
  type GameFinishedPayload,
} from '@recon/games';
import { TransformerPolicy, trainTokenizer } from '@recon/policy';
import { labelDecoding, matchNamespace } from './game-decoding';
import { PolicyAgent } from './policy-agent';

// An untrained policy: its free-form replies are noise, so every valid constrained move is the decoder's doing.
const tokenizer = trainTokenizer({
  corpus: [
    'Answer with <s>choice_1</s>. Legal moves: <C1R1>, <pile:1, take:1>, <Pass>, <Bet>, <roll>, <Liar>',
  ],
  vocabSize: 320,
});
const model = new TransformerPolicy({
  vocabSize: tokenizer.vocabSize,
  dModel: 16,
  layers: 1,
  heads: 2,
  context: 96,
  seed: 11,
});
const policy = { model, tokenizer, checkpointHash: 'f'.repeat(64) };
const random = { name: 'random', move: randomMove };

// The tiny context cannot hold the games' prompts: these tests are about the decoder, so prompts are cut.
const agentFor = (decoding: 'free' | 'constrained') => (seed: number) =>
  new PolicyAgent(policy, seed, { temperature: 0.6, maxTokens: 12, decoding, promptOverflow: 'cut-left' });

async function completeInfo(decoding: 'free' | 'constrained') {
  const events: GameEvent[] = [];
  const finished: GameFinishedPayload[] = [];
  for (const game of COMPLETE_INFO_GAMES)
    finished.push(
      ...(await runCompleteInfoTrials(game, agentFor(decoding), {
        runId: matchNamespace('run-p', 'untrained', decoding),
        runSeed: 1,
        seedScope: 'untrained',
        trials: 2,
        stage: 'untrained',
        policy: { kind: 'forfeit' },
        emit: (e) => void events.push(e),
        decoding,
      })),
    );
  return { events, finished };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('PolicyAgent with legal-move-constrained decoding (untrained policy)', () => {
  it('plays every complete-information decision validly, labelled constrained, and replays exactly', async () => {
    const first = await completeInfo('constrained');
    expect(first.finished).toHaveLength(20);
    first.finished.forEach((f) => {
      expect(f).toMatchObject({ invalidCount: 0, decoding: 'constrained' });
      expect(f.outcome).not.toBe('invalid');
      expect(f.matchId).toMatch(/^run-p\/untrained\/constrained\//);
    });
    first.events.forEach((e) => validatePayload(e.type, 2, e.payload));
    expect((await completeInfo('constrained')).events).toEqual(first.events);
  });

  it('plays every GTBench game against random to a normal ending with no invalid move', async () => {
    for (const textGame of GTBENCH_TEXT_GAMES) {
      const [match] = scheduleMatches(
        matchNamespace('run-p', 'untrained', 'constrained'),
        1,
        textGame.game.name,
        'random',
        1,
        'untrained',
      );
      const events: GameEvent[] = [];
      const finished = await runGtbenchMatch(textGame, agentFor('constrained')(match.seed), random, {
        match,
        stage: 'untrained',
        emit: (e) => void events.push(e),
        decoding: 'constrained',
      });
      expect(finished).toMatchObject({ status: 'normal', invalidCount: 0, decoding: 'constrained' });
      const replies = events.flatMap((e) =>
        e.type === 'game.move' && e.payload.actor === 'agent' ? [e.payload] : [],
      );
      expect(replies.length).toBeGreaterThan(0);
      replies.forEach((m) => expect(m).toMatchObject({ legal: true, decoding: 'constrained' }));
    }
  }, 120_000);

  it('keeps free-form play as before: same match ids, and seeds shared with the constrained play', async () => {
    const free = await completeInfo('free');
    expect(free.finished[0].matchId).toBe(`run-p/untrained/${COMPLETE_INFO_GAMES[0].name}/self-play/0`);
    expect(free.finished.map((f) => f.seed)).toEqual(
      (await completeInfo('constrained')).finished.map((f) => f.seed),
    );
    free.events.forEach((e) => expect(e.payload).toHaveProperty('decoding', 'free'));
  });
});

describe('result keys by decoding', () => {
  it('keeps free-form keys and moves constrained ones to their own suite', () => {
    const results = { 'gtbench.nim.random.winRate': 0.5, 'gtbench.overall.random.matches': 2 };
    expect(labelDecoding(results, 'gtbench', 'free')).toEqual(results);
    expect(labelDecoding(results, 'gtbench', 'constrained')).toEqual({
      'gtbench-constrained.nim.random.winRate': 0.5,
      'gtbench-constrained.overall.random.matches': 2,
    });
    expect(labelDecoding({ 'complete-info.overall.ne': 1 }, 'complete-info', 'constrained')).toEqual({
      'complete-info-constrained.overall.ne': 1,
    });
  });
});

describe('PolicyAgent with a prompt longer than its context', () => {
  it.each(['free', 'constrained'] as const)('does not ask a %s question whose rules would be cut, and says why', async (decoding) => {
    const agent = new PolicyAgent(policy, 3, { temperature: 0.6, maxTokens: 12, decoding });
    const game = COMPLETE_INFO_GAMES[0];
    const events: GameEvent[] = [];
    const [finished] = await runCompleteInfoTrials(game, () => agent, {
      runId: 'run-o',
      runSeed: 1,
      seedScope: 'untrained',
      trials: 1,
      stage: 'untrained',
      policy: { kind: 'forfeit' },
      emit: (e) => void events.push(e),
      decoding,
    });
    expect(finished.outcome).toBe('invalid');
    const replies = events.flatMap((e) => (e.type === 'game.move' && e.payload.actor === 'agent' ? [e.payload.rawText] : []));
    expect(replies[0]).toMatch(/^\[not asked: the prompt takes \d+ tokens and the context leaves \d+ for it\]$/);
  });
});
