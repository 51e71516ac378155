import type { DestinationStream } from 'pino';
import { atLeast, createLogger, rootLogger, setRootLogger } from './logger';
import { eventLogger, logger, withEventLogger } from './event-context';

/** A destination keeping each line, parsed. */
function capture(): DestinationStream & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
}

function withEnv<T>(values: Record<string, string | undefined>, run: () => T): T {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  const assign = (entries: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  assign(values);
  try {
    return run();
  } finally {
    assign(saved);
  }
}

const EVENT = {
  streamId: 'run-7',
  eventId: '5b0f7c1e-2f1d-4c7a-9a53-6f1f2c8a9d10',
  type: 'rollout.shard.requested',
  causationId: '0d6c2c57-8a3e-4b8e-8f0b-2a4f5e6d7c8b',
  correlationId: null,
};

describe('createLogger', () => {
  it('writes JSON lines named recon, with the level, the message and the service', () => {
    const out = capture();
    withEnv({ RECON_SERVICE_NAME: 'rollout' }, () => createLogger({ destination: out }).warn('disk full'));
    expect(out.lines).toEqual([
      expect.objectContaining({ level: 40, name: 'recon', service: 'rollout', msg: 'disk full' }),
    ]);
  });

  it('takes its level from RECON_LOG_LEVEL, info when unset', () => {
    const levels = (level: string | undefined) => {
      const out = capture();
      const log = withEnv({ RECON_LOG_LEVEL: level }, () => createLogger({ destination: out }));
      log.debug('d');
      log.info('i');
      log.error('e');
      return out.lines.map((line) => line.msg);
    };
    expect(levels(undefined)).toEqual(['i', 'e']);
    expect(levels('debug')).toEqual(['d', 'i', 'e']);
    expect(levels(' ERROR ')).toEqual(['e']);
    expect(() => levels('loud')).toThrow(
      "RECON_LOG_LEVEL: expected trace, debug, info, warn, error, fatal or silent, got 'loud'",
    );
  });

  it('atLeast keeps the more severe level', () => {
    expect([atLeast('info', 'warn'), atLeast('error', 'warn'), atLeast('silent', 'warn')]).toEqual([
      'warn',
      'error',
      'silent',
    ]);
  });
});

describe('event loggers', () => {
  let out: ReturnType<typeof capture>;
  beforeEach(() => {
    out = capture();
    setRootLogger(createLogger({ level: 'debug', destination: out }));
  });
  afterEach(() => setRootLogger(null));

  it("puts the handled event's run id and correlation ids on every line logged while it is handled", async () => {
    const deep = async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger().info('deep inside');
    };
    await withEventLogger(EVENT, { group: 'rollout' }, async () => {
      logger().debug('handling');
      await deep();
    });
    logger().info('after');
    expect(
      out.lines.map(({ msg, group, runId, eventId, eventType, causationId, correlationId }) => ({
        msg,
        group,
        runId,
        eventId,
        eventType,
        causationId,
        correlationId,
      })),
    ).toEqual([
      { msg: 'handling', group: 'rollout', ...ids() },
      { msg: 'deep inside', group: 'rollout', ...ids() },
      {
        msg: 'after',
        group: undefined,
        runId: undefined,
        eventId: undefined,
        eventType: undefined,
        causationId: undefined,
        correlationId: undefined,
      },
    ]);
  });

  it('eventLogger binds an event for a line written outside its handler; rootLogger never does', async () => {
    await withEventLogger(EVENT, {}, async () => rootLogger().warn('pool'));
    eventLogger(EVENT, { group: 'training' }).error('stopped');
    expect(out.lines.map((line) => [line.msg, line.runId, line.group])).toEqual([
      ['pool', undefined, undefined],
      ['stopped', 'run-7', 'training'],
    ]);
  });
});

function ids() {
  return {
    runId: EVENT.streamId,
    eventId: EVENT.eventId,
    eventType: EVENT.type,
    causationId: EVENT.causationId,
    correlationId: null,
  };
}
