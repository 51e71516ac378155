import { duration, ProgressLines } from './progress-lines';
import { parseExperimentConfig } from '@recon/experiment';
import { evaluationUnits, progressModeFor, watchRun } from './watch-run';

describe('plain progress lines (stderr not a terminal)', () => {
  function recorder(options: { everyMs?: number; everyFraction?: number } = {}) {
    let now = 0;
    const lines: string[] = [];
    const progress = new ProgressLines((line) => lines.push(line), { ...options, now: () => now });
    return { lines, progress, at: (ms: number) => (now = ms) };
  }

  it('writes a line when a phase starts, every 5% of it, and when it is done, with rate and ETA', () => {
    const { lines, progress, at } = recorder();
    for (let step = 1; step <= 100; step++) {
      at(step * 100); // 10 steps/s
      progress.update('SFT', step, 100, 'steps');
    }
    expect(lines).toHaveLength(1 + 20);
    expect(lines[0]).toBe('progress SFT: 1/100 steps (1.0%), started');
    expect(lines[1]).toBe('progress SFT: 6/100 steps (6.0%), 10.0 steps/s, ETA 9s');
    expect(lines[lines.length - 1]).toMatch(/^progress SFT: 100\/100 steps \(100\.0%\), done in 10s$/);
  });

  it('writes a line every 10 s while a slow phase moves less than 5%', () => {
    const { lines, progress, at } = recorder();
    progress.update('eval sft', 1, 1000, 'items');
    for (let t = 1; t <= 60; t++) {
      at(t * 1000);
      progress.update('eval sft', 1 + t, 1000, 'items');
    }
    expect(lines.map((l) => /: (\d+)\/1000/.exec(l)![1])).toEqual(['1', '11', '21', '31', '41', '51', '61']);
    expect(lines[6]).toBe('progress eval sft: 61/1000 items (6.1%), 1.0 items/s, ETA 15m 39s');
  });

  it('says a phase is done once, however long its count keeps arriving', () => {
    const { lines, progress, at } = recorder();
    progress.update('eval grpo', 9, 10, 'items');
    at(1000);
    progress.update('eval grpo', 10, 10, 'items');
    at(60_000);
    progress.update('eval grpo', 10, 10, 'items');
    expect(lines.filter((l) => l.includes('done in'))).toEqual(['progress eval grpo: 10/10 items (100.0%), done in 1s']);
  });

  it('writes no second "started" line for units read in the same instant as the first', () => {
    const { lines, progress, at } = recorder();
    progress.update('eval sft', 1, 100, 'items');
    progress.update('eval sft', 48, 100, 'items');
    at(2000);
    progress.update('eval sft', 60, 100, 'items');
    expect(lines).toEqual(['progress eval sft: 1/100 items (1.0%), started', 'progress eval sft: 60/100 items (60.0%), 29.5 items/s, ETA 1s']);
  });

  it('counts a game suite once per decoding mode it plays', () => {
    const config = (decoding: string) =>
      parseExperimentConfig(
        `name: u\ndatasets: { curriculum: {} }\npolicy: { kind: builtin }\nevaluation: { heldOut: { items: 5 }, completeInformation: { trials: 2 }, gtbench: { matches: 1, opponents: [random], decoding: ${decoding} } }\n`,
        'u.yaml',
      );
    expect(evaluationUnits(config('free'))).toBe(5 + 20 + 10);
    expect(evaluationUnits(config('both'))).toBe(5 + 20 + 20);
    const twoGames = parseExperimentConfig(
      `name: u\ndatasets: { curriculum: {} }\npolicy: { kind: builtin }\nevaluation: { gtbench: { matches: 3, games: [nim, pig], opponents: [random, mcts] } }\n`,
      'u.yaml',
    );
    expect(evaluationUnits(twoGames)).toBe(3 * 2 * 2);
  });

  it('keeps phases apart and writes nothing between due lines', () => {
    const { lines, progress, at } = recorder({ everyMs: 60_000, everyFraction: 0.5 });
    progress.update('SFT', 1, 10, 'steps');
    progress.update('GRPO', 1, 4, 'steps');
    at(1000);
    progress.update('SFT', 2, 10, 'steps');
    progress.update('GRPO', 3, 4, 'steps');
    expect(lines.map((l) => l.split(':')[0])).toEqual(['progress SFT', 'progress GRPO', 'progress GRPO']);
  });

  it('formats durations and picks the mode from the stream', () => {
    expect([duration(9.6), duration(65), duration(3725)]).toEqual(['10s', '1m 05s', '1h 02m']);
    expect(progressModeFor(true, { isTTY: true })).toBe('bars');
    expect(progressModeFor(true, { isTTY: false })).toBe('lines');
    expect(progressModeFor(true, {})).toBe('lines');
    expect(progressModeFor(false, { isTTY: true })).toBe(false);
  });
});

describe('watchRun without a terminal', () => {
  it('follows the run with plain progress lines instead of bars', async () => {
    const config = parseExperimentConfig(
      [
        'name: t',
        'datasets: { curriculum: { trainItems: 10, testItems: 5 } }',
        'policy: { kind: builtin, dModel: 32, nLayers: 1, nHeads: 2, contextLength: 64 }',
        'sft: { steps: 4, batchSize: 2 }',
        'evaluation: { maxNewTokens: 8, heldOut: { items: 5 } }',
      ].join('\n'),
      't.yaml',
    );
    const events = [
      ...[1, 2, 3, 4].map((step) => ({ type: 'sft.step.completed', payload: { step } })),
      { type: 'run.completed', payload: { summary: {} } },
    ].map((e, i) => ({ ...e, position: i + 1 }));
    const store = {
      readStream: async (_run: string, options: { fromPosition: number }) =>
        events.filter((e) => e.position >= options.fromPosition),
    };
    const lines: string[] = [];
    const outcome = await watchRun(store as never, 'run', config, {
      signal: new AbortController().signal,
      progress: 'lines',
      failure: () => null,
      writeLine: (line) => lines.push(line),
    });
    expect(outcome).toEqual({ status: 'completed', summary: {} });
    expect(lines[0]).toMatch(/^progress SFT: 1\/4 steps \(25\.0%\), started$/);
    expect(lines[lines.length - 1]).toMatch(/^progress SFT: 4\/4 steps \(100\.0%\), done in \d+s$/);
  });
});
