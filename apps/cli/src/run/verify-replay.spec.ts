import type { RecordedEvent } from '@recon/eventlog';
import { compareRuns } from './verify-replay';

let position = 0;
const event = (type: string, payload: unknown) =>
  ({ type, payload, position: ++position }) as unknown as RecordedEvent;

describe('compareRuns', () => {
  const recorded = [
    event('run.requested', { name: 'a' }),
    event('sft.step.completed', { step: 1, loss: 2.5 }),
    event('sft.step.completed', { step: 2, loss: 2.1 }),
    event('game.finished', { matchId: 'r1/untrained/nim/random/0', outcome: 'loss' }),
  ];

  it('finds a faithful re-execution identical, whatever the interleaving and the run id in match ids', () => {
    const replayed = [
      event('run.requested', { name: 'replay' }),
      event('game.finished', { matchId: 'r2/untrained/nim/random/0', outcome: 'loss' }),
      event('sft.step.completed', { step: 1, loss: 2.5 }),
      event('sft.step.completed', { step: 2, loss: 2.1 }),
    ];
    expect(compareRuns(recorded, 'r1', replayed, 'r2')).toEqual({
      identical: true,
      compared: 3,
      firstDivergence: null,
    });
  });

  it('replaces the run id only in ids, never in text that happens to contain it', () => {
    // Run `whole` and a game prompt asking for "a whole number": not a divergence.
    const prompt = 'Answer with a whole number of coins.';
    const run = (id: string) => [
      event('game.move', { matchId: `${id}/untrained/nim/random/0`, prompt, reply: 'whole' }),
      event('game.finished', { matchId: `${id}/untrained/nim/random/0`, outcome: 'win' }),
    ];
    expect(compareRuns(run('whole'), 'whole', run('whole.verify-1a2b3c4d'), 'whole.verify-1a2b3c4d')).toEqual({
      identical: true,
      compared: 2,
      firstDivergence: null,
    });
    const changed = [event('game.move', { matchId: 'whole.verify-1/untrained/nim/random/0', prompt: 'Answer.', reply: 'whole' })];
    expect(compareRuns(run('whole').slice(0, 1), 'whole', changed, 'whole.verify-1').firstDivergence?.differences).toEqual([
      `prompt: ${JSON.stringify(prompt)} -> "Answer."`,
    ]);
  });

  it('reports the first divergence in recorded order with a readable diff, and missing events', () => {
    const replayed = [
      event('sft.step.completed', { step: 1, loss: 2.5 }),
      event('sft.step.completed', { step: 2, loss: 2.2 }),
    ];
    const result = compareRuns(recorded, 'r1', replayed, 'r2');
    expect(result.identical).toBe(false);
    expect(result.firstDivergence).toMatchObject({
      type: 'sft.step.completed',
      index: 1,
      differences: ['loss: 2.1 -> 2.2'],
    });
    const missing = compareRuns(recorded, 'r1', replayed.slice(0, 1), 'r2').firstDivergence!;
    expect(missing).toMatchObject({ type: 'sft.step.completed', index: 1, replayed: null });
    expect(missing.differences[0]).toMatch(/-> \(absent\)/);
  });
});
