import fc from 'fast-check';
import { ContractViolationError, validateEnvelope, validatePayload, ALL_EVENTS } from './index';

const RUNS = 2000;

const validEnvelope = {
  eventId: '0b6f0c1e-1111-4a4a-8b8b-123456789abc',
  streamId: 'run-1',
  position: 1,
  type: 'reward.scored',
  schemaVersion: 1,
  occurredAt: '2026-11-25T07:00:00.000Z',
  producer: { service: 'reward', version: '1', instance: 'a' },
  causationId: null,
  correlationId: null,
  payload: { rolloutId: 'r', step: 1, rewardId: 'x', rewardVersion: '1', total: 1, components: { a: 1 } },
  meta: {},
  payloadHash: 'a'.repeat(64),
  metaHash: 'b'.repeat(64),
  prevHash: null,
  hash: 'c'.repeat(64),
};

/** Anything arriving at a boundary is either a valid envelope or a ContractViolationError: never a crash. */
function boundary(candidate: unknown): 'accepted' | 'rejected' {
  try {
    validateEnvelope(candidate, 'fuzz');
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(ContractViolationError);
    expect((error as Error).message).toMatch(/^fuzz: invalid event '.*'/);
    return 'rejected';
  }
}

describe('event boundary under generated malformed input', () => {
  it(`rejects ${RUNS} arbitrary values with a ContractViolationError`, () => {
    fc.assert(
      fc.property(fc.anything(), (value) => void boundary(value)),
      { numRuns: RUNS },
    );
  });

  it(`rejects ${RUNS} envelopes with one field replaced by an arbitrary value, naming that field`, () => {
    const fields = Object.keys(validEnvelope) as Array<keyof typeof validEnvelope>;
    let rejected = 0;
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.anything(), (field, value) => {
        const candidate = { ...validEnvelope, [field]: value };
        if (boundary(candidate) === 'rejected') rejected += 1;
      }),
      { numRuns: RUNS },
    );
    expect(rejected).toBeGreaterThan(RUNS * 0.9);
    process.stdout.write(`envelope field fuzz: ${RUNS} cases, ${rejected} rejected, 0 crashes\n`);
  });

  it(`rejects ${RUNS} payloads of random JSON for every event type without crashing`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL_EVENTS), fc.jsonValue(), (def, payload) => {
        try {
          validatePayload(def.type, def.version, payload);
        } catch (error) {
          expect(error).toBeInstanceOf(ContractViolationError);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
