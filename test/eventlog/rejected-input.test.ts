import fc from 'fast-check';
import { ContractViolationError, ALL_EVENTS } from '@recon/contracts';
import { auditStream, type NewEvent } from '@recon/eventlog';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

const RUNS = 500;

describe('the event log under generated malformed appends', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform();
    await platform.eventStore.append('fuzz-run', syntheticRunEvents('fuzz-run'), {
      expectedVersion: 'no-stream',
      producer: TEST_PRODUCER,
    });
  });
  afterAll(async () => {
    await platform.close();
  });

  const logDigest = async () =>
    (
      await platform.pool.query<{ digest: string }>(
        `SELECT md5(string_agg(hash || payload::text, ',' ORDER BY global_position)) AS digest FROM recon_events`,
      )
    ).rows[0].digest;

  it(`rejects ${RUNS} appends carrying one malformed event and leaves the log unchanged`, async () => {
    const before = await logDigest();
    const head = await platform.eventStore.headPosition();
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ALL_EVENTS.map((def) => def.type)),
        fc.dictionary(fc.string(), fc.jsonValue()),
        async (type, payload) => {
          const good: NewEvent = { type: 'run.failed', payload: { phase: 'x', error: 'y' } };
          try {
            // The extra key makes every generated payload invalid (payload objects are strict).
            const malformed = { ...payload, 'not-a-field': true };
            await platform.eventStore.append('fuzz-run', [good, { type, payload: malformed } as unknown as NewEvent], {
              expectedVersion: 'any',
              producer: TEST_PRODUCER,
            });
          } catch (error) {
            expect(error).toBeInstanceOf(ContractViolationError);
            rejected += 1;
            return;
          }
          throw new Error(`a malformed ${type} payload was accepted: ${JSON.stringify(payload)}`);
        },
      ),
      { numRuns: RUNS },
    );
    expect(rejected).toBe(RUNS);
    expect(await platform.eventStore.headPosition()).toBe(head);
    expect(await logDigest()).toBe(before);
    expect((await auditStream(platform.pool, 'fuzz-run')).ok).toBe(true);
    process.stdout.write(`malformed appends: ${RUNS} cases, ${rejected} rejected, log unchanged\n`);
  });
});
