import {
  ALL_EVENTS,
  ContractViolationError,
  UnknownEventTypeError,
  eventDefinition,
  validateEnvelope,
  validatePayload,
} from './index';

describe('event contracts', () => {
  it('declares every type once per version, each with an owner service and a description', () => {
    const keys = ALL_EVENTS.map((def) => `${def.type}@${def.version}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const def of ALL_EVENTS) {
      expect(def.description.length).toBeGreaterThan(10);
      expect(['api', 'data', 'training', 'rollout', 'reward', 'evaluation']).toContain(def.owner);
    }
  });

  it('includes the run-lifecycle events the services share', () => {
    for (const type of [
      'run.requested',
      'dataset.resolved',
      'sft.step.completed',
      'checkpoint.saved',
      'rollouts.requested',
      'rollout.generated',
      'reward.scored',
      'grpo.step.completed',
      'evaluation.item.scored',
      'game.move',
      'game.finished',
      'run.completed',
      'run.failed',
    ]) {
      expect(eventDefinition(type).type).toBe(type);
    }
  });

  it('names the event type and the offending field of an invalid payload', () => {
    expect(() =>
      validatePayload('reward.scored', 1, {
        rolloutId: 'r',
        step: 1,
        rewardId: 'x',
        rewardVersion: '1',
        total: Number.NaN,
        components: {},
      }),
    ).toThrow("invalid event 'reward.scored' at field 'total'");
    expect(() => validatePayload('run.failed', 1, { phase: 'sft', error: 'x', extra: 1 })).toThrow(
      ContractViolationError,
    );
  });

  it('rejects unknown types and unknown versions', () => {
    expect(() => eventDefinition('run.exploded')).toThrow(UnknownEventTypeError);
    expect(() => eventDefinition('run.failed', 99)).toThrow('unknown schema version 99');
  });

  it('validates a whole envelope at a boundary, then its payload', () => {
    const envelope = {
      eventId: '0b6f0c1e-1111-4a4a-8b8b-123456789abc',
      streamId: 'run-1',
      position: 1,
      type: 'run.failed',
      schemaVersion: 1,
      occurredAt: '2026-11-25T07:00:00.000Z',
      producer: { service: 'api', version: '1', instance: 'a' },
      causationId: null,
      correlationId: null,
      payload: { phase: 'sft', error: 'boom' },
      meta: {},
      payloadHash: 'a'.repeat(64),
      metaHash: 'b'.repeat(64),
      prevHash: null,
      hash: 'c'.repeat(64),
    };
    expect(validateEnvelope(envelope, 'kafka topic x').type).toBe('run.failed');
    expect(() => validateEnvelope({ ...envelope, position: 0 }, 'kafka topic x')).toThrow(
      "kafka topic x: invalid event 'run.failed' at field 'position'",
    );
    expect(() => validateEnvelope({ ...envelope, payload: { phase: 'sft' } })).toThrow("at field 'error'");
  });
});
