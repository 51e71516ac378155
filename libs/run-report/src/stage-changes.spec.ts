import type { RecordedEvent } from '@recon/eventlog';
import { buildRunReport } from './run-report';
import { pairedDifference } from '@recon/games';
import { describeStageChange, runChanges, stageChanges } from './stage-changes';

/** Graded items of one suite at one stage (v1 events: one verdict): item i is right where `right(i)` says so. */
function graded(
  stage: string,
  items: number,
  right: (i: number) => boolean,
  suite = 'held-out',
): RecordedEvent[] {
  return Array.from(
    { length: items },
    (_, i) =>
      ({
        type: 'evaluation.item.scored',
        occurredAt: '2026-01-01T00:00:00.000Z',
        payload: {
          suite,
          stage,
          itemId: `item-${i}`,
          category: 'c',
          completion: '',
          parsedAnswer: null,
          gold: 'Yes',
          correct: right(i),
        },
      }) as unknown as RecordedEvent,
  );
}

describe('stage changes', () => {
  it('pairs each evaluated stage with the next on the same items', () => {
    const events = [
      ...graded('untrained', 100, () => false),
      ...graded('sft', 100, (i) => i < 30),
      // Keeps 25 of SFT's 30, gains 15 more.
      ...graded('grpo', 100, (i) => (i < 30 && i >= 5) || (i >= 30 && i < 45)),
      ...graded('sft', 10, () => true, 'recon-eval'),
    ];
    const [toSft, toGrpo] = stageChanges(events, 'held-out', ['untrained', 'sft', 'grpo']);
    expect(toSft).toMatchObject({
      from: 'untrained',
      to: 'sft',
      change: { difference: 0.3, secondOnly: 30 },
    });
    expect(toSft.change.low).toBeGreaterThan(0);
    expect(toGrpo.change).toMatchObject({ both: 25, firstOnly: 5, secondOnly: 15, neither: 55, items: 100 });
    expect(toGrpo.change.difference).toBeCloseTo(0.1, 10);
    expect(describeStageChange(toGrpo)).toMatch(
      /^sft → grpo: \+10\.0 points \[.+\] on 100 paired items \(15 gained, 5 lost; exact McNemar p = 0\.041; the interval (excludes|includes) zero\)$/,
    );
  });

  it('skips stages that were not evaluated, and says nothing for a single stage', () => {
    const events = [...graded('untrained', 10, () => false), ...graded('grpo', 10, (i) => i < 4)];
    expect(
      stageChanges(events, 'held-out', ['untrained', 'sft', 'grpo']).map((c) => `${c.from}>${c.to}`),
    ).toEqual(['untrained>grpo']);
    expect(
      stageChanges(
        graded('external', 5, () => true),
        'held-out',
        ['external'],
      ),
    ).toEqual([]);
  });

  it('is part of the run report under table 3', () => {
    const report = buildRunReport('r', [
      ...graded('sft', 50, (i) => i < 10),
      ...graded('grpo', 50, (i) => i < 12),
      {
        type: 'evaluation.completed',
        occurredAt: '2026-01-01T00:00:00.000Z',
        payload: { stage: 'sft', results: { 'held-out.items': 50, 'held-out.accuracy': 0.2 } },
      } as unknown as RecordedEvent,
      {
        type: 'evaluation.completed',
        occurredAt: '2026-01-01T00:00:00.000Z',
        payload: { stage: 'grpo', results: { 'held-out.items': 50, 'held-out.accuracy': 0.24 } },
      } as unknown as RecordedEvent,
    ]);
    expect(report).toContain('Change between stages on the same items');
    expect(report).toMatch(/- sft → grpo: \+4\.0 points \[.+\] on 50 paired items \(2 gained, 0 lost/);
  });

  it('pairs two runs at each stage both evaluated, on the items both graded', () => {
    const first = [...graded('sft', 50, (i) => i < 20), ...graded('grpo', 50, (i) => i < 25)];
    // The second run: grpo on 40 of the items only (10 more right of them), no sft.
    const second = graded('grpo', 40, (i) => i < 35);
    const changes = runChanges(first, second, 'held-out', ['untrained', 'sft', 'grpo']);
    expect(changes).toEqual([
      { stage: 'grpo', change: pairedDifference({ both: 25, firstOnly: 0, secondOnly: 10, neither: 5 }) },
    ]);
    expect(changes[0].change.items).toBe(40);
  });
});
