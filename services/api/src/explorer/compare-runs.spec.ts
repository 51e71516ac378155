import type { RecordedEvent } from '@recon/eventlog';
import { syntheticRunEvents } from '../../../../test/support/synthetic-run';
import { compareRuns } from './compare-runs';

function run(
  runId: string,
  edit: (config: Record<string, Record<string, unknown>>) => void,
  right: number,
): RecordedEvent[] {
  const events = syntheticRunEvents(runId);
  edit((events[0].payload as { config: Record<string, Record<string, unknown>> }).config);
  const items = Array.from({ length: 10 }, (_, i) => ({
    type: 'evaluation.item.scored',
    payload: {
      suite: 'held-out',
      stage: 'grpo',
      itemId: `i${i}`,
      category: 'c',
      completion: '',
      parsedAnswer: null,
      gold: 'x',
      correct: i < right,
    },
  }));
  return [...events, ...items].map(
    (e, i) => ({ ...e, position: i + 1, occurredAt: '2026-01-01T00:00:00.000Z' }) as unknown as RecordedEvent,
  );
}

describe('compareRuns', () => {
  it('lists the config keys that differ, the curves, and the paired change against the first run', () => {
    const a = run('a', () => undefined, 4);
    const b = run('b', (c) => ((c.grpo.steps = 9), (c.grpo.beta = 0.1)), 7);
    const cmp = compareRuns([
      { runId: 'a', events: a },
      { runId: 'b', events: b },
    ]);
    expect(cmp.configDiff).toEqual([
      { key: 'grpo.beta', values: [null, '0.1'] },
      { key: 'grpo.steps', values: ['3', '9'] },
    ]);
    expect(cmp.runs.map((r) => [r.runId, r.sft.length, r.grpo.length])).toEqual([
      ['a', 5, 3],
      ['b', 5, 3],
    ]);
    // held-out: v1 items (one verdict): the headline grader; recon-eval: both synthetic runs' one strict item.
    expect(
      cmp.changes.map((c) => [
        c.suite,
        c.stage,
        c.verdict,
        c.change.items,
        c.change.secondOnly,
        c.change.firstOnly,
      ]),
    ).toEqual([
      ['held-out', 'grpo', 'headline', 10, 3, 0],
      ['recon-eval', 'grpo', 'exact', 1, 0, 0],
    ]);
  });
});
