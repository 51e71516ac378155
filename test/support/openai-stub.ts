import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the stub does with one chat request: answer with a status and content, or never answer. */
export type StubReply = { status: number; content?: string; error?: string } | 'hang';

export interface OpenAiStub {
  /** The base URL, ending in /v1. */
  baseUrl: string;
  /** Every request body received, in arrival order. */
  requests: Array<{ model: string; messages: Array<{ role: string; content: string }> }>;
  /** Replaces the behaviour for the requests that follow. */
  reply: (behaviour: (request: OpenAiStub['requests'][number], index: number) => StubReply) => void;
  close(): Promise<void>;
}

/**
 * A scripted OpenAI-compatible chat server for tests: each `POST /v1/chat/completions` is answered as the
 * current behaviour says (by the request and its arrival index), with `usage`, or left hanging.
 */
export async function startOpenAiStub(
  behaviour: (request: OpenAiStub['requests'][number], index: number) => StubReply,
): Promise<OpenAiStub> {
  let current = behaviour;
  const requests: OpenAiStub['requests'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      const request = JSON.parse(body) as OpenAiStub['requests'][number];
      requests.push(request);
      const reply = current(request, requests.length - 1);
      if (reply === 'hang') return;
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          reply.status === 200
            ? {
                choices: [{ index: 0, message: { role: 'assistant', content: reply.content ?? '' } }],
                usage: { prompt_tokens: 10, completion_tokens: 3 },
              }
            : { error: { message: reply.error ?? `status ${reply.status}` } },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    reply: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
