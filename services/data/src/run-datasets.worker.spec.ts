import type { DestinationStream } from 'pino';
import type { NewEvent } from '@recon/eventlog';
import { createLogger, setRootLogger } from '@recon/logging';
import { createScratchPlatform, type ScratchPlatform } from '@recon/persistence';
import { InProcessEventBus } from '@recon/transport';
import { dataProducer } from './producer';
import { RunDatasetsWorker } from './run-datasets.worker';

/** A run request as other code records it: its config is no experiment config of this code. */
const foreignRequest: NewEvent = {
  type: 'run.requested',
  payload: {
    name: 'foreign',
    config: { sft: { steps: 1 } },
    configHash: 'a'.repeat(64),
    seed: 1,
    requestedBy: 'spec',
    codeVersion: 'other',
  },
};

describe('RunDatasetsWorker: its log lines carry the run they are about', () => {
  let platform: ScratchPlatform;
  let bus: InProcessEventBus;
  let worker: RunDatasetsWorker;
  const lines: Array<Record<string, unknown>> = [];
  const out: DestinationStream = { write: (line: string) => void lines.push(JSON.parse(line)) };

  beforeAll(async () => {
    setRootLogger(createLogger({ level: 'debug', destination: out }));
    platform = await createScratchPlatform();
    bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 50 });
    worker = new RunDatasetsWorker(platform, bus);
    await worker.start();
  });

  afterAll(async () => {
    await worker?.stop();
    await bus?.close();
    await platform?.close();
    setRootLogger(null);
  });

  it('logs the run it fails with the run id, the event that failed it and its causation', async () => {
    const [requested] = await platform.eventStore.append('run-logged', [foreignRequest], {
      expectedVersion: 'no-stream',
      producer: dataProducer(),
    });
    const failed = () => lines.find((line) => line.level === 40 && line.runId === 'run-logged');
    for (const deadline = Date.now() + 20_000; !failed() && Date.now() < deadline;)
      await new Promise((resolve) => setTimeout(resolve, 25));

    const ids = {
      runId: 'run-logged',
      eventId: requested.eventId,
      eventType: 'run.requested',
      causationId: null,
      correlationId: null,
      group: 'data',
    };
    expect(failed()).toEqual(
      expect.objectContaining({
        ...ids,
        msg: expect.stringMatching(/^run failed in data: run run-logged: recorded config is invalid/),
      }),
    );
    // Every line about the event, from the bus's delivery to the worker's verdict, carries the same ids.
    expect(lines.filter((line) => line.runId === 'run-logged').map((line) => line.msg)).toEqual([
      'handling event',
      failed()!.msg,
    ]);
    expect(lines.filter((line) => line.runId === 'run-logged')).toEqual([
      expect.objectContaining(ids),
      expect.objectContaining(ids),
    ]);
    const [recorded] = await platform.eventStore.readStream('run-logged', { types: ['run.failed'] });
    expect(recorded.causationId).toBe(requested.eventId);
  });
});
