import { sealEvents, type RecordedEvent } from '@recon/eventlog';
import type { Producer } from '@recon/contracts';
import {
  HEADER_GLOBAL_POSITION,
  HEADER_TOMBSTONED_BY,
  HEADER_TYPE,
  decodeEvent,
  encodeEvent,
  headerText,
} from './kafka-codec';

const PRODUCER: Producer = { service: 'training', version: 'test', instance: 'spec' };

function recorded(
  events: Parameters<typeof sealEvents>[1] = [
    { type: 'run.failed', payload: { phase: 'grpo', error: 'out of memory' }, meta: { durationMs: 3 } },
    { type: 'run.failed', payload: { phase: 'sft', error: 'second' } },
  ],
): RecordedEvent[] {
  return sealEvents(
    'run-codec',
    events,
    PRODUCER,
    0,
    null,
  ).map((sealed, index) => ({
    eventId: sealed.eventId,
    streamId: sealed.streamId,
    position: sealed.position,
    globalPosition: 41 + index,
    type: sealed.type,
    schemaVersion: sealed.schemaVersion,
    occurredAt: sealed.occurredAt,
    producer: sealed.producer,
    causationId: sealed.causationId,
    correlationId: sealed.correlationId,
    payload: sealed.payload,
    meta: sealed.meta,
    payloadHash: sealed.payloadHash,
    metaHash: sealed.metaHash,
    prevHash: sealed.prevHash,
    hash: sealed.hash,
  })) as RecordedEvent[];
}

/** The message as a consumer receives it: Buffers for key, value and header values. */
function received(message: ReturnType<typeof encodeEvent>) {
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(message.headers ?? {}))
    headers[name] = Buffer.from(String(value));
  return {
    key: message.key === undefined || message.key === null ? null : Buffer.from(message.key),
    value: message.value === null ? null : Buffer.from(message.value as string),
    headers,
  };
}

const WHERE = 'kafka recon.events[3]@17';

describe('kafka codec', () => {
  it('round-trips a committed event, keyed by its stream id, with type and position headers', () => {
    const [event] = recorded();
    const message = encodeEvent(event);
    expect(message.key).toBe('run-codec');
    const wire = received(message);
    expect(headerText(wire.headers, HEADER_TYPE)).toBe('run.failed');
    expect(headerText(wire.headers, HEADER_GLOBAL_POSITION)).toBe('41');
    expect(decodeEvent(wire, WHERE)).toEqual(event);
  });

  it('keys shareable work finer than the run, and still refuses a key of another stream', () => {
    const [rollout] = recorded([
      {
        type: 'rollout.generated',
        payload: {
          rolloutId: '1/p7/0',
          step: 1,
          promptId: 'p7',
          groupIndex: 0,
          policyVersion: 'a'.repeat(64),
          seed: 3,
          completion: 'x',
          completionTokens: 1,
          truncated: false,
          finishReason: 'eos',
        },
      },
    ]);
    const message = encodeEvent(rollout);
    expect(message.key).toBe('run-codec#rollout-0');
    expect(decodeEvent(received(message), WHERE)).toEqual(rollout);
    expect(() => decodeEvent({ ...received(message), key: Buffer.from('run-codecX#rollout-0') }, WHERE)).toThrow(
      /key 'run-codecX#rollout-0' is not the event's stream id 'run-codec'/,
    );
  });

  it('carries a withdrawn event: tombstone payload, envelope still checked', () => {
    const [event] = recorded();
    const tombstoned = {
      ...event,
      payload: { tombstone: { deletedBy: 'd1' } },
      tombstonedBy: 'd1',
    } as unknown as RecordedEvent;
    const wire = received(encodeEvent(tombstoned));
    expect(headerText(wire.headers, HEADER_TOMBSTONED_BY)).toBe('d1');
    expect(decodeEvent(wire, WHERE)).toEqual(tombstoned);
  });

  it.each([
    ['no value', (w: ReturnType<typeof received>) => ({ ...w, value: null }), /has no value/],
    [
      'not JSON',
      (w: ReturnType<typeof received>) => ({ ...w, value: Buffer.from('{"eventId":') }),
      /the value is not JSON/,
    ],
    [
      'a payload breaking its contract',
      (w: ReturnType<typeof received>) => {
        const value = JSON.parse(w.value!.toString());
        value.payload.phase = 42;
        return { ...w, value: Buffer.from(JSON.stringify(value)) };
      },
      /invalid event 'run.failed' at field 'phase'/,
    ],
    [
      'an unknown event type',
      (w: ReturnType<typeof received>) => {
        const value = JSON.parse(w.value!.toString());
        value.type = 'no.such.event';
        return { ...w, value: Buffer.from(JSON.stringify(value)) };
      },
      /invalid event 'no.such.event' at field 'type': unknown event type/,
    ],
    [
      'a key other than the stream id',
      (w: ReturnType<typeof received>) => ({ ...w, key: Buffer.from('run-other') }),
      /key 'run-other' is not the event's stream id 'run-codec'/,
    ],
    [
      'a payload edited after sealing',
      (w: ReturnType<typeof received>) => {
        const value = JSON.parse(w.value!.toString());
        value.payload.error = 'edited';
        return { ...w, value: Buffer.from(JSON.stringify(value)) };
      },
      /payload hash does not match/,
    ],
    [
      'an envelope field edited after sealing',
      (w: ReturnType<typeof received>) => {
        const value = JSON.parse(w.value!.toString());
        value.position = 9;
        return { ...w, value: Buffer.from(JSON.stringify(value)) };
      },
      /envelope hash does not match/,
    ],
    [
      'no global position',
      (w: ReturnType<typeof received>) => {
        const value = JSON.parse(w.value!.toString());
        delete value.globalPosition;
        return { ...w, value: Buffer.from(JSON.stringify(value)) };
      },
      /has no globalPosition/,
    ],
  ])('rejects %s as a poison message naming where it was read', (_name, spoil, reason) => {
    const wire = spoil(received(encodeEvent(recorded()[0])));
    expect(() => decodeEvent(wire, WHERE)).toThrow(/^kafka recon\.events\[3\]@17: poison message: /);
    expect(() => decodeEvent(wire, WHERE)).toThrow(reason);
  });
});
