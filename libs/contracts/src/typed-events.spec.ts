import { eventsOf, ofType, payloadsOf, type Envelope } from './envelope';

// Type-level checks: `tsc` (npm run typecheck) fails if an event's payload is no longer narrowed by its type.
function handle(event: Envelope<'run.failed' | 'policy.ready'>): string {
  switch (event.type) {
    case 'run.failed':
      return `${event.payload.phase}: ${event.payload.error}`;
    case 'policy.ready':
      // @ts-expect-error a policy.ready payload has no `error`
      return event.payload.error;
  }
}

const envelope = (type: string, payload: unknown) => ({ type, payload }) as Envelope;

describe('typed events', () => {
  const events = [
    envelope('run.failed', { phase: 'training', error: 'boom' }),
    envelope('policy.ready', { stage: 'sft', checkpointHash: 'a'.repeat(64) }),
    envelope('run.failed', { phase: 'evaluation', error: 'again' }),
  ];

  it('narrows by switch on the type', () => {
    expect(handle(events[0] as Envelope<'run.failed'>)).toBe('training: boom');
  });

  it('keeps the events of the given types, in order', () => {
    expect(events.filter(ofType('run.failed')).map((e) => e.payload.phase)).toEqual(['training', 'evaluation']);
    expect(eventsOf(events, 'policy.ready').map((e) => e.payload.stage)).toEqual(['sft']);
    expect(payloadsOf(events, 'run.failed').map((p) => p.error)).toEqual(['boom', 'again']);
    expect(events.filter(ofType('run.completed'))).toEqual([]);
  });
});
