import type { PayloadOf } from '@recon/contracts';
import type { GameFinishedPayload } from '@recon/games';
import { runExternalEvaluation } from '../../services/evaluation/src/external';
import { startOpenAiStub, type OpenAiStub } from '../support/openai-stub';
import { createTestPlatform, type TestPlatform } from '../support/platform';

/**
 * An external model evaluated on GTBench against an LLM opponent (both OpenAI-compatible, here one scripted
 * server answering by model name): the two models' requests are recorded apart on the evaluation's stream,
 * and a match the opponent's reply ended is the opponent's fault.
 */
describe('external evaluation against an LLM opponent (real Postgres, scripted server)', () => {
  let platform: TestPlatform;
  let stub: OpenAiStub;

  beforeAll(async () => {
    platform = await createTestPlatform();
    // The evaluated model takes one object from the last pile; the opponent never names a move.
    stub = await startOpenAiStub((request) =>
      request.model === 'player'
        ? { status: 200, content: 'Action: <pile:4, take:1>' }
        : { status: 200, content: 'I pass' },
    );
  });
  afterAll(async () => {
    await stub?.close();
    await platform?.close();
  });

  it('records both models’ requests apart and ends each match on the opponent’s invalid reply', async () => {
    const opponent = {
      kind: 'openai' as const,
      baseUrl: stub.baseUrl,
      model: 'rival',
      temperature: 0.2,
      maxTokens: 16,
      concurrency: 2,
      timeoutMs: 10_000,
      retries: 0,
      minBackoffMs: 1,
    };
    const results = await runExternalEvaluation(
      {
        evalId: 'ext-llm',
        model: {
          baseUrl: stub.baseUrl,
          model: 'player',
          concurrency: 2,
          retries: 0,
          timeoutMs: 10_000,
          minBackoffMs: 1,
        },
        suites: ['gtbench'],
        seed: 3,
        maxTokens: 16,
        completeInfo: { trials: 1, temperature: 0.6, reasks: 0 },
        gtbench: {
          matches: 2,
          temperature: 0.6,
          opponents: ['random', opponent],
          games: ['nim'],
          invalidPolicy: 'abnormal',
          reasks: 1,
        },
        requestedBy: 'jest',
        codeVersion: 'test',
      },
      platform,
    );
    expect(results['gtbench.overall.openai:rival.matches']).toBe(2);
    expect(results['gtbench.overall.random.matches']).toBe(2);
    const events = await platform.eventStore.readStream('ext-llm');
    const finished = events
      .filter((e) => e.type === 'game.finished')
      .map((e) => e.payload as GameFinishedPayload)
      .filter((f) => f.opponent === 'openai:rival');
    expect(finished).toHaveLength(2);
    finished.forEach((f) =>
      expect(f).toMatchObject({
        status: 'abnormal',
        fault: 'opponent',
        opponentPolicy: `openai:rival@${stub.baseUrl}`,
        opponentInvalidCount: 1,
        invalidCount: 0,
      }),
    );
    const sent = events
      .filter((e) => e.type === 'external.request.sent')
      .map((e) => e.payload as PayloadOf<'external.request.sent'>);
    const rival = sent.filter((r) => r.model === 'rival');
    // Seated second the opponent answers after one move of the player; seated first, at once.
    expect(rival.map((r) => r.requestId).sort()).toEqual(
      finished.map((f) => `${f.matchId}/opponent#0`).sort(),
    );
    expect(sent.filter((r) => r.model === 'player').every((r) => !r.requestId.includes('/opponent#'))).toBe(
      true,
    );
    expect(events.filter((e) => e.type === 'external.response.received')).toHaveLength(sent.length);
    const requested = events[0].payload as PayloadOf<'external.evaluation.requested'>;
    expect((requested.settings as { gtbench: { opponents: unknown[] } }).gtbench.opponents[1]).toMatchObject({
      kind: 'openai',
      model: 'rival',
    });
  });
});
