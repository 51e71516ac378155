import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postChatCompletion } from './chat-client';

describe('postChatCompletion outcomes of a call that gets no answer', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  });
  const request = { model: 'm', messages: [{ role: 'user' as const, content: 'Which?' }] };

  it('is cancelled, with its own error text, when the caller stops it (whatever the reason given)', async () => {
    const caller = new AbortController();
    const pending = postChatCompletion(url, request, { timeoutMs: 60_000, signal: caller.signal });
    setTimeout(() => caller.abort(new Error('request r7 failed: HTTP 400')), 50);
    await expect(pending).resolves.toEqual({
      outcome: 'cancelled',
      error: 'cancelled by the client before a response',
    });
    const stoppedBefore = new AbortController();
    stoppedBefore.abort(new Error('another row'));
    await expect(
      postChatCompletion(url, request, { timeoutMs: 60_000, signal: stoppedBefore.signal }),
    ).resolves.toMatchObject({ outcome: 'cancelled' });
  });

  it('is a timeout when its own timer stops it while the caller still waits', async () => {
    const caller = new AbortController();
    const outcome = await postChatCompletion(url, request, { timeoutMs: 30, signal: caller.signal });
    expect(outcome).toEqual({ outcome: 'timeout', error: 'no response within 30 ms' });
  });
});
