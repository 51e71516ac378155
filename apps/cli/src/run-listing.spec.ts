import type { RunEntity } from '@recon/persistence';
import { STALLED_AFTER_SECONDS } from '@recon/run-activity';
import { runsJson, runsTable } from './run-listing';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

function run(runId: string, changes: Partial<RunEntity>): RunEntity {
  return {
    runId,
    kind: 'training',
    name: runId,
    status: 'requested',
    seed: '42',
    configHash: 'c'.repeat(64),
    requestedBy: 'tester',
    codeVersion: 'abc123',
    requestedAt: ago(7200),
    model: 'builtin',
    baseUrl: null,
    finishedAt: null,
    failure: null,
    parentRunId: null,
    parentStep: null,
    changedKeys: null,
    summary: null,
    eventCount: 1,
    lastPosition: 1,
    lastEventAt: ago(7200),
    ...changes,
  };
}

const RUNS = [
  run('only-requested', {}),
  run('training', { eventCount: 40, lastPosition: 40, lastEventAt: ago(12) }),
  run('stalled', { eventCount: 40, lastPosition: 40, lastEventAt: ago(STALLED_AFTER_SECONDS + 1) }),
  run('at-threshold', { eventCount: 3, lastPosition: 3, lastEventAt: ago(STALLED_AFTER_SECONDS) }),
  run('done', { status: 'completed', eventCount: 90, lastPosition: 90, lastEventAt: ago(3 * 3600) }),
  run('broke', {
    status: 'failed',
    eventCount: 5,
    lastPosition: 5,
    lastEventAt: ago(86_400 * 2),
    failure: 'x',
  }),
];

describe('recon runs listing', () => {
  it('shows what each run is doing and how long ago it last recorded an event', () => {
    const { rows, columns } = runsTable(RUNS, NOW);
    expect(columns).toEqual([
      'run',
      'kind',
      'name',
      'status',
      'events',
      'last event',
      'model',
      'seed',
      'requested',
      'finished',
      'parent',
    ]);
    expect(rows.map((r) => [r.run, r.status, r['last event']])).toEqual([
      ['only-requested', 'requested', '2h ago'],
      ['training', 'running', '12s ago'],
      ['stalled', 'stalled', '15m ago'],
      ['at-threshold', 'running', '15m ago'],
      ['done', 'completed', '3h ago'],
      ['broke', 'failed', '2d ago'],
    ]);
  });

  it('keeps the stored status in JSON, with the derived activity and the ISO time of the last event', () => {
    const rows = runsJson(RUNS, NOW);
    expect(rows.map((r) => [r.run, r.status, r.activity, r.lastEventAt])).toEqual([
      ['only-requested', 'requested', 'requested', ago(7200)],
      ['training', 'requested', 'running', ago(12)],
      ['stalled', 'requested', 'stalled', ago(STALLED_AFTER_SECONDS + 1)],
      ['at-threshold', 'requested', 'running', ago(STALLED_AFTER_SECONDS)],
      ['done', 'completed', 'completed', ago(3 * 3600)],
      ['broke', 'failed', 'failed', ago(86_400 * 2)],
    ]);
    expect(Object.keys(rows[0])).toEqual([
      'run',
      'kind',
      'name',
      'status',
      'activity',
      'events',
      'lastEventAt',
      'model',
      'baseUrl',
      'seed',
      'requested',
      'finished',
      'parent',
      'summary',
      'failure',
      'changedKeys',
    ]);
  });

  it('adds the traces column when a distillation job is listed', () => {
    const job = run('distill', {
      kind: 'distillation',
      status: 'completed',
      summary: { items: 5, accepted: 3, rejected: 2 },
    });
    const { rows, columns } = runsTable([job], NOW);
    expect(columns.at(-1)).toBe('traces');
    expect(rows[0]).toMatchObject({ seed: null, traces: '3 accepted / 2 rejected' });
  });
});
