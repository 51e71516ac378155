import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { BlobStore, EventStore, NewEvent, RecordedEvent } from '@recon/eventlog';
import { ExternalModelError, RecordedChatModel } from './recorded-chat';

/** Just what RecordedChatModel uses of the stores: appends collected in order, blobs in a map. */
function memoryStores() {
  const events: NewEvent[] = [];
  const blobs = new Map<string, Buffer>();
  const eventStore = {
    append: (_stream: string, batch: NewEvent[]) => {
      events.push(...batch);
      return Promise.resolve([] as RecordedEvent[]);
    },
  } as unknown as EventStore;
  const blobStore = {
    put: (content: Uint8Array | string) => {
      const bytes = Buffer.from(content);
      const hash = createHash('sha256').update(bytes).digest('hex');
      blobs.set(hash, bytes);
      return Promise.resolve(hash);
    },
  } as unknown as BlobStore;
  return { events, blobs, stores: { eventStore, blobStore } };
}

describe('RecordedChatModel', () => {
  let server: Server;
  let baseUrl: string;
  /** Statuses to answer with, in order; then 200. */
  let script: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let bodies: unknown[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        bodies.push(JSON.parse(body));
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setTimeout(() => {
          inFlight--;
          const status = script.shift() ?? 200;
          response.writeHead(status, { 'content-type': 'application/json' });
          response.end(
            status === 200
              ? JSON.stringify({
                  choices: [{ message: { role: 'assistant', content: 'A' } }],
                  usage: { prompt_tokens: 7, completion_tokens: 1 },
                })
              : JSON.stringify({ error: { message: `status ${status}` } }),
          );
        }, 20);
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));
  beforeEach(() => {
    script = [];
    bodies = [];
    maxInFlight = 0;
  });

  const model = (
    stores: ReturnType<typeof memoryStores>['stores'],
    extra: { concurrency?: number; signal?: AbortSignal } = {},
  ) =>
    new RecordedChatModel(
      stores,
      'eval-1',
      {
        baseUrl,
        model: 'm',
        concurrency: extra.concurrency ?? 2,
        retries: 2,
        timeoutMs: 5000,
        minBackoffMs: 1,
      },
      extra.signal,
    );
  const sampling = { temperature: 0, maxTokens: 16, seed: 5, stop: ['\n'] };
  const messages = [{ role: 'user' as const, content: 'Which?' }];

  it('records each attempt as a request and a response, retrying a 503, with usage and the bodies as blobs', async () => {
    script = [503];
    const { events, blobs, stores } = memoryStores();
    await expect(model(stores).complete('recon-eval/row-1', 'recon-eval', messages, sampling)).resolves.toBe(
      'A',
    );
    expect(events.map((e) => `${e.type}:${(e.payload as { attempt: number }).attempt}`)).toEqual([
      'external.request.sent:1',
      'external.response.received:1',
      'external.request.sent:2',
      'external.response.received:2',
    ]);
    expect(events[1].payload).toMatchObject({ outcome: 'http-error', httpStatus: 503, suite: 'recon-eval' });
    expect(events[3].payload).toMatchObject({
      outcome: 'ok',
      httpStatus: 200,
      usage: { promptTokens: 7, completionTokens: 1 },
    });
    expect(events[0].payload).toMatchObject({
      endpoint: `${baseUrl}/chat/completions`,
      model: 'm',
      requestId: 'recon-eval/row-1',
    });
    const request = JSON.parse(
      blobs.get((events[0].payload as { requestBlobHash: string }).requestBlobHash)!.toString(),
    );
    expect(request).toEqual({ model: 'm', messages, temperature: 0, max_tokens: 16, seed: 5, stop: ['\n'] });
    expect(bodies).toEqual([request, request]);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(4);
  });

  it('gives up on a refused request at once, and on a failing one after the retries, naming it', async () => {
    script = [400];
    const first = memoryStores();
    await expect(model(first.stores).complete('g#0', 'gtbench', messages, sampling)).rejects.toThrow(
      new RegExp(`${baseUrl}/chat/completions failed request g#0 after 1 attempt\\(s\\): HTTP 400`),
    );
    script = [500, 500, 500];
    const second = memoryStores();
    const error = await model(second.stores)
      .complete('g#1', 'gtbench', messages, sampling)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalModelError);
    expect(error).toMatchObject({ requestId: 'g#1', attempts: 3 });
    expect(second.events.filter((e) => e.type === 'external.response.received')).toHaveLength(3);
  });

  it('records a timeout as an outcome and retries it', async () => {
    const silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const { events, stores } = memoryStores();
    const slow = new RecordedChatModel(stores, 'eval-1', {
      baseUrl: `http://127.0.0.1:${(silent.address() as { port: number }).port}`,
      model: 'm',
      concurrency: 1,
      retries: 1,
      timeoutMs: 100,
      minBackoffMs: 1,
    });
    await expect(slow.complete('r', 'recon-eval', messages, sampling)).rejects.toThrow(
      /failed request r after 2 attempt\(s\): no response within 100 ms/,
    );
    expect(events.filter((e) => e.type === 'external.response.received').map((e) => e.payload)).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'timeout' }),
      expect.objectContaining({ attempt: 2, outcome: 'timeout' }),
    ]);
    silent.closeAllConnections();
    await new Promise<void>((done) => silent.close(() => done()));
  });

  it('keeps at most `concurrency` requests in flight and sends nothing once stopped', async () => {
    const { stores } = memoryStores();
    const limited = model(stores, { concurrency: 2 });
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => limited.complete(`r${i}`, 'recon-eval', messages, sampling)),
    );
    expect(maxInFlight).toBe(2);
    const stop = new AbortController();
    stop.abort();
    const stopped = memoryStores();
    await expect(
      model(stopped.stores, { signal: stop.signal }).complete('r', 'recon-eval', messages, sampling),
    ).rejects.toThrow(/not sent: the evaluation stopped/);
    expect(stopped.events).toEqual([]);
  });
});
