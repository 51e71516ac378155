import type { NewEvent, RecordedEvent } from '@recon/eventlog';
import { InProcessEventBus, type HandlerFailedError } from '@recon/transport';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { TEST_PRODUCER } from '../support/synthetic-run';

const failed = (i: number): NewEvent => ({ type: 'run.failed', payload: { phase: 'p', error: `e${i}` } });
const until = async (predicate: () => boolean) => {
  for (let i = 0; i < 200 && !predicate(); i += 1) await new Promise((r) => setTimeout(r, 25));
  expect(predicate()).toBe(true);
};

describe('InProcessEventBus', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform();
  });
  afterAll(async () => {
    await platform.close();
  });

  it('delivers committed events to every group in commit order and resumes a group from its offset', async () => {
    const bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 20 });
    const a: RecordedEvent[] = [];
    const b: RecordedEvent[] = [];
    const consumerA = await bus.subscribe({ group: 'a' }, async (e) => void a.push(e));
    await bus.subscribe({ group: 'b', types: ['run.failed'] }, async (e) => void b.push(e));
    await platform.eventStore.append('run-bus', [failed(1), failed(2)], { expectedVersion: 'any', producer: TEST_PRODUCER });
    await platform.eventStore.append('run-bus', [failed(3)], { expectedVersion: 'any', producer: TEST_PRODUCER });
    await until(() => a.length === 3 && b.length === 3);
    expect(a.map((e) => e.position)).toEqual([1, 2, 3]);
    await consumerA.stop();
    await platform.eventStore.append('run-bus', [failed(4)], { expectedVersion: 'any', producer: TEST_PRODUCER });
    const resumed: RecordedEvent[] = [];
    await bus.subscribe({ group: 'a' }, async (e) => void resumed.push(e));
    await until(() => resumed.length === 1);
    expect(resumed[0].position).toBe(4);
    await bus.close();
  });

  it('reports a failing handler with the group, event type, run and position, and stops that group', async () => {
    const errors: HandlerFailedError[] = [];
    const bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 20, onError: (e) => errors.push(e) });
    await bus.subscribe({ group: 'failing' }, async (event) => {
      if (event.streamId === 'run-fail' && event.position === 2) throw new Error('reward service crashed');
    });
    await platform.eventStore.append('run-fail', [failed(1), failed(2)], { expectedVersion: 'any', producer: TEST_PRODUCER });
    await until(() => errors.length === 1);
    expect(errors[0].message).toMatch(/consumer group 'failing' failed on event run.failed \(run run-fail, position 2\): reward service crashed/);
    await bus.close();
  });
});
