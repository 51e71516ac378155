import type { RecordedEvent } from '@recon/eventlog';
import { gtbenchSection } from './report-games';
import { nra, pairwiseResult, ratingsLines, textOpponentLines } from './report-ratings';

const recorded = (type: string, payload: object) =>
  ({ type, occurredAt: '2026-01-01T00:00:00.000Z', payload }) as unknown as RecordedEvent;

const UNTRAINED = 'a'.repeat(64);
const SFT = 'b'.repeat(64);
const LLM = 'openai:m@http://127.0.0.1:9/v1';

let k = 0;
/** A GTBench result of `stage` against `opponent`: a text opponent's policy named, as v3 records it. */
const match = (
  stage: string,
  opponent: string,
  outcome: 'win' | 'draw' | 'loss' | 'abnormal',
  text?: { policy: string; fault?: boolean },
) =>
  recorded('game.finished', {
    matchId: `r/${stage}/nim/${opponent}/${k++}`,
    game: 'nim',
    suite: 'gtbench',
    stage,
    opponent,
    agentSeat: k % 2,
    seed: k,
    returns: [0, 0],
    outcome,
    status: outcome === 'abnormal' ? 'abnormal' : 'normal',
    invalidCount: outcome === 'abnormal' && !text?.fault ? 1 : 0,
    retries: 0,
    invalidPolicy: 'abnormal',
    ...(text
      ? {
          opponentPolicy: text.policy,
          opponentInvalidCount: text.fault ? 1 : 0,
          ...(text.fault ? { fault: 'opponent' } : {}),
        }
      : {}),
  });

const repeat = <T>(n: number, make: () => T) => Array.from({ length: n }, make);

/** untrained and sft of one run, sft also against untrained's checkpoint, both against random and an LLM. */
function pool(): RecordedEvent[] {
  k = 0;
  return [
    recorded('run.requested', { seed: 42 }),
    recorded('policy.ready', { stage: 'untrained', step: 0, checkpointHash: UNTRAINED, final: false }),
    recorded('policy.ready', { stage: 'sft', step: 5, checkpointHash: SFT, final: true }),
    ...repeat(6, () => match('untrained', 'random', 'win')),
    ...repeat(4, () => match('untrained', 'random', 'loss')),
    ...repeat(9, () => match('sft', 'random', 'win')),
    ...repeat(1, () => match('sft', 'random', 'draw')),
    ...repeat(7, () => match('sft', 'checkpoint:untrained', 'win', { policy: UNTRAINED })),
    ...repeat(3, () => match('sft', 'checkpoint:untrained', 'loss', { policy: UNTRAINED })),
    ...repeat(4, () => match('sft', 'openai:m', 'abnormal', { policy: LLM, fault: true })),
    ...repeat(2, () => match('untrained', 'openai:m', 'loss', { policy: LLM })),
    recorded('game.move', {
      matchId: 'r/sft/nim/openai:m/30', // the first match the LLM ended
      game: 'nim',
      ply: 0,
      actor: 'opponent',
      seat: 0,
      rawText: 'hmm',
      action: null,
      legal: false,
      attempt: 0,
    }),
    recorded('external.request.sent', { requestId: 'r/sft/nim/openai:m/30/opponent#0', attempt: 1 }),
    recorded('external.request.sent', { requestId: 'r/other/opponent#0', attempt: 1 }),
    recorded('external.response.received', {
      requestId: 'r/sft/nim/openai:m/30/opponent#0',
      attempt: 1,
      outcome: 'ok',
    }),
  ];
}

const finishedOf = (events: RecordedEvent[]) =>
  events.filter((e) => e.type === 'game.finished').map((e) => e.payload as Parameters<typeof nra>[0][number]);

describe('GTBench pool in the report: matches as pairwise results, NRA, ratings, text opponents', () => {
  const stages = new Map([
    [UNTRAINED, 'untrained'],
    [SFT, 'sft'],
  ]);

  it('scores a match for the stage; a checkpoint of a stage is that stage; an abnormal match is lost by whoever ended it', () => {
    const [win, crossPlay, byOpponent, byAgent] = [
      match('sft', 'random', 'win'),
      match('sft', 'checkpoint:untrained', 'draw', { policy: UNTRAINED }),
      match('sft', 'openai:m', 'abnormal', { policy: LLM, fault: true }),
      match('sft', 'openai:m', 'abnormal', { policy: LLM }),
    ].map((e) => e.payload as Parameters<typeof pairwiseResult>[0]);
    expect(pairwiseResult(win, stages)).toEqual({ a: 'sft', b: 'random', score: 1 });
    expect(pairwiseResult(crossPlay, stages)).toEqual({ a: 'sft', b: 'untrained', score: 0.5 });
    expect(pairwiseResult(byOpponent, stages)).toEqual({ a: 'sft', b: 'openai:m', score: 1 });
    expect(pairwiseResult(byAgent, stages)).toEqual({ a: 'sft', b: 'openai:m', score: 0 });
    const self = match('sft', 'checkpoint:sft', 'win', { policy: SFT }).payload as Parameters<
      typeof pairwiseResult
    >[0];
    expect(pairwiseResult(self, stages)).toBeNull();
  });

  it('computes NRA over normal matches only', () => {
    const events = [
      match('s', 'o', 'win'),
      match('s', 'o', 'win'),
      match('s', 'o', 'draw'),
      match('s', 'o', 'loss'),
    ];
    expect(nra(finishedOf([...events, match('s', 'o', 'abnormal')]))).toBe('NRA +0.25');
    expect(nra(finishedOf([match('s', 'o', 'abnormal')]))).toBe('NRA –');
  });

  it('rates the whole pool best first, the same way every time, with its seed and method', () => {
    const events = pool();
    const lines = ratingsLines(events, finishedOf(events));
    expect(lines[0]).toBe('Ratings over the pool (4 players, 36 matches):');
    const players = lines
      .join('\n')
      .split('\n')
      .filter((l) => /^\| [a-z:]+ \| [+−]\d+ \[/.test(l))
      .map((l) => l.split(' | ')[0].slice(2));
    // The LLM lost every match it could not play to sft but beat untrained twice: it sits between them.
    expect(players).toEqual(['sft', 'openai:m', 'untrained', 'random']);
    expect(lines.join('\n')).toContain('| sft | ');
    expect(lines.join('\n')).toMatch(/\| sft \| \+\d+ \[[+−]\d+, \+\d+\] \| 24 \| 20–1–3 \|/);
    expect(lines.at(-1)).toMatch(/1000 bootstrap resamples of each pairing's matches \(seed \d+\)/);
    expect(ratingsLines(events, finishedOf(events))).toEqual(lines);
    // untrained against random only: two players still make a pool; one player alone does not.
    expect(ratingsLines(events, finishedOf(events.slice(0, 13)))[0]).toBe(
      'Ratings over the pool (2 players, 10 matches):',
    );
    expect(ratingsLines([], [])).toEqual([]);
  });

  it('says what each text opponent did: matches, those it ended, its legal replies, its recorded requests', () => {
    const events = pool();
    const lines = textOpponentLines(events, finishedOf(events));
    expect(lines).toContain(
      '- openai:m (openai:m@http://127.0.0.1:9/v1): 6 matches, 4 ended by its invalid reply; its replies parsed as a legal move: 0.0% [0.0, 79.3] of 1; 1 requests recorded, 1 answered.',
    );
    expect(lines).toContain(
      `- checkpoint:untrained (${UNTRAINED}): 10 matches, 0 ended by its invalid reply; no replies recorded.`,
    );
    expect(
      textOpponentLines(
        events,
        finishedOf(events).filter((f) => f.opponent === 'random'),
      ),
    ).toEqual([]);
  });

  it('titles Table 5 for its opponents, shows NRA beside the win rates, and says who ended abnormal matches', () => {
    const events = pool();
    const section = gtbenchSection(events, ['untrained', 'sft']).join('\n');
    expect(section).toContain('## Table 5 — GTBench win rate against its opponents');
    expect(section).toContain(
      '| overall vs | matches per stage | untrained: win rate [95% CI] (abnormal); NRA |',
    );
    expect(section).toMatch(
      /\| openai:m \| 4 \| 0\.00 \[0\.00, 0\.66\] \(0\); NRA −1\.00 \| 0\.00 \[0\.00, 0\.49\] \(4\); NRA – \|/,
    );
    expect(section).toMatch(
      /\| checkpoint:untrained \| 10 \| – \| 0\.70 \[[\d.]+, [\d.]+\] \(0\); NRA \+0\.40 \|/,
    );
    expect(section).toContain('Ratings over the pool (4 players, 36 matches):');
    const onlyLlm = [
      recorded('run.requested', { seed: 1 }),
      ...repeat(3, () => match('sft', 'openai:m', 'abnormal', { policy: LLM, fault: true })),
    ];
    expect(gtbenchSection(onlyLlm, ['sft']).join('\n')).toContain(
      "- sft: all 3 matches abnormal (0 ended by the policy's invalid reply, 3 by the opponent's)",
    );
  });
});
