import { createTestPlatform, type TestPlatform } from '../support/platform';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';
import type { NewEvent } from '@recon/eventlog';

describe('projections: read models rebuilt from the log', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform();
  });
  afterAll(async () => {
    await platform.close();
  });
  const append = (runId: string, events: NewEvent[]) =>
    platform.eventStore.append(runId, events, { expectedVersion: 'any', producer: TEST_PRODUCER });

  it('projects runs, metrics, rollouts, rewards and eval results exactly once', async () => {
    await append('run-a', syntheticRunEvents('run-a'));
    await append('run-b', syntheticRunEvents('run-b', { sftSteps: 3, grpoSteps: 2 }));
    await platform.projections.catchUp();
    await platform.projections.catchUp();
    const runs = await platform.pool.query('SELECT run_id, status, event_count FROM runs ORDER BY run_id');
    expect(runs.rows).toEqual([
      { run_id: 'run-a', status: 'completed', event_count: syntheticRunEvents('run-a').length },
      { run_id: 'run-b', status: 'completed', event_count: syntheticRunEvents('run-b', { sftSteps: 3, grpoSteps: 2 }).length },
    ]);
    const rollouts = await platform.pool.query(`SELECT count(*)::int AS n FROM rollouts WHERE run_id = 'run-a'`);
    expect(rollouts.rows[0].n).toBe(6);
    const rewards = await platform.pool.query(
      `SELECT reward_id, count(*)::int AS n FROM rewards WHERE run_id = 'run-a' GROUP BY reward_id`,
    );
    expect(rewards.rows).toEqual([{ reward_id: 'recon-hierarchical', n: 6 }]);
    const loss = await platform.pool.query(
      `SELECT step, value FROM metric_points WHERE run_id = 'run-a' AND name = 'sft/loss' ORDER BY step`,
    );
    expect(loss.rows.map((r) => r.value)).toEqual([3, 1.5, 1, 0.75, 0.6]);
  });

  it('keeps a point logged for an earlier step and marks the rewound points superseded', async () => {
    const step = (s: number, loss: number): NewEvent => ({
      type: 'sft.step.completed',
      payload: { step: s, loss, learningRate: 1e-3, gradNorm: 1, tokens: 1, examples: 1, dataPosition: s, metrics: {} },
    });
    await append('run-rewind', [step(1, 4), step(2, 3), step(3, 2), step(2, 2.5), step(3, 1.9)]);
    await platform.projections.catchUp();
    const all = await platform.pool.query(
      `SELECT step, value, superseded_by IS NOT NULL AS superseded FROM metric_points
        WHERE run_id = 'run-rewind' AND name = 'sft/loss' ORDER BY global_position`,
    );
    expect(all.rows).toEqual([
      { step: 1, value: 4, superseded: false },
      { step: 2, value: 3, superseded: true },
      { step: 3, value: 2, superseded: true },
      { step: 2, value: 2.5, superseded: false },
      { step: 3, value: 1.9, superseded: false },
    ]);
  });

  it('rebuilds one run and every read model to identical digests', async () => {
    const one = await platform.projections.rebuild('run-a');
    expect(one.identical).toBe(true);
    expect(one.eventsReplayed).toBe(syntheticRunEvents('run-a').length);
    expect(one.after.tables.find((t) => t.table === 'rollouts')?.rows).toBe(6);
    const all = await platform.projections.rebuild();
    expect(all.identical).toBe(true);
    expect(all.before.digest).toBe(all.after.digest);
  });

  it('reports a difference when a read model was altered outside the log', async () => {
    await platform.pool.query(`UPDATE rewards SET total = 99 WHERE run_id = 'run-b'`);
    const result = await platform.projections.rebuild('run-b');
    expect(result.identical).toBe(false);
    expect(result.before.tables.find((t) => t.table === 'rewards')?.digest).not.toBe(
      result.after.tables.find((t) => t.table === 'rewards')?.digest,
    );
    expect((await platform.projections.rebuild('run-b')).identical).toBe(true);
  });
});
