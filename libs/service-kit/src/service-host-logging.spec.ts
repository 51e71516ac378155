import { Controller, Get, Module } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { createLogger, setRootLogger } from '@recon/logging';
import type { RecordedEvent } from '@recon/eventlog';
import { HandlerFailedError } from '@recon/transport';
import { createServiceApp, exitOnStoppedConsumer } from './service-host';

@Controller('boom')
class BoomController {
  @Get()
  boom(): never {
    throw new Error('the handler broke');
  }
}

@Module({ controllers: [BoomController] })
class BoomModule {}

const lines: Array<Record<string, unknown>> = [];
const out: DestinationStream = { write: (line: string) => void lines.push(JSON.parse(line)) };

beforeAll(() => setRootLogger(createLogger({ level: 'info', destination: out })));
beforeEach(() => lines.splice(0));
afterAll(() => setRootLogger(null));

describe('exitOnStoppedConsumer', () => {
  it('logs the failed event with its run and ids (fatal), then exits 1', async () => {
    const exits: number[] = [];
    const stopped = exitOnStoppedConsumer('training', (code) => exits.push(code));
    const event = {
      streamId: 'run-9',
      eventId: '3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b',
      type: 'policy.ready',
      position: 4,
      causationId: '7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d',
      correlationId: null,
    } as RecordedEvent;
    stopped(
      'a handler failed and its consumer stopped',
      new HandlerFailedError('training', event, new Error('boom')),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 60,
        group: 'training',
        runId: 'run-9',
        eventId: event.eventId,
        eventType: 'policy.ready',
        causationId: event.causationId,
        err: expect.objectContaining({ message: 'boom' }),
        msg: expect.stringMatching(
          /^training: a handler failed and its consumer stopped: .*boom; exiting \(1\)/,
        ),
      }),
    ]);
    expect(exits).toEqual([1]);
  });
});

describe('createServiceApp: Nest logs through pino', () => {
  it("writes the framework's errors as JSON lines with the request id, and no start-up chatter", async () => {
    const app = await createServiceApp(BoomModule);
    try {
      await app.listen(0, '127.0.0.1');
      expect(lines).toEqual([]); // Nest's start-up lines (modules, routes, "started") are info: left out.
      const response = await fetch(`${await app.getUrl()}/boom`);
      expect(response.status).toBe(500);
      expect(lines).toEqual([
        expect.objectContaining({
          level: 50,
          name: 'recon',
          component: 'nest',
          reqId: expect.anything(),
          context: 'ExceptionsHandler',
          err: expect.objectContaining({ message: 'the handler broke' }),
        }),
      ]);
    } finally {
      await app.close();
    }
  });
});
