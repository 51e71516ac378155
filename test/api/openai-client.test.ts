import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI, { APIError } from 'openai';
import type { FileBlobStore } from '@recon/eventlog';
import { scratchServerUrl } from '@recon/persistence';
import { generate } from '@recon/policy';
import { loadPolicyCheckpoint, promptTokens, type LoadedPolicy } from '@recon/policy-runtime';
import { builtinChatPolicy } from '../../services/api/src/serve/builtin-chat-policy';
import { createServeApp } from '../../services/api/src/serve/serve-app';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { RECON_BIN, runRecon } from '../support/recon-cli';
import { recordTinyCheckpoint } from '../support/tiny-checkpoint';

/** Control tokens of the chat template: never in a reply. */
const CONTROL = ['<|pad|>', '<|bos|>', '<|eos|>', '<|system|>', '<|user|>', '<|assistant|>'];
const hasControlOrReplacement = (text: string) =>
  CONTROL.some((t) => text.includes(t)) || text.includes('\uFFFD');
const TOKEN = 'serve-test-token-0123456789abcdef';
const SEEDS = Array.from({ length: 12 }, (_, i) => i);
/** About 215 KB of plain English (the size that overflowed the stack). */
const LONG_PROMPT = 'The buyer offers a price, and the seller accepts it or makes a counter-offer. '.repeat(
  2800,
);

/** What the official client's error carries: status and OpenAI's error fields. */
async function apiError(call: Promise<unknown>) {
  const error = await call.then(
    () => new Error('the call succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(APIError);
  const { status, type, param, code, message } = error as APIError;
  return { status, type, param, code, message };
}

/**
 * The official `openai` client (npm, 6.x) against a real `recon serve` process on a tiny recorded checkpoint,
 * with a bearer token: every call a client makes, streaming included, and the errors it reads.
 */
describe('recon serve with the official openai client', () => {
  let platform: TestPlatform;
  let env: Record<string, string>;
  let server: ChildProcess;
  let startup = '';
  let baseURL: string;
  let client: OpenAI;
  let dir: string;
  let policy: LoadedPolicy;
  let rawReplies: string[];
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
    { role: 'developer', content: 'Answer with one letter.' },
    { role: 'system', content: 'You play a game.' },
    { role: 'user', content: 'Alice and Bob choose A or B.' },
    { role: 'assistant', content: 'A' },
    { role: 'user', content: 'And now?' },
  ];
  const base = { model: 'tiny', messages, max_tokens: 24, temperature: 1, seed: 3 };

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    platform = await createTestPlatform();
    const { checkpointHash } = await recordTinyCheckpoint(platform, 'tiny-run');
    policy = await loadPolicyCheckpoint(platform.blobStore, checkpointHash);
    // Replies of the samples checked below, every sampled token decoded (what the server sent before). Here,
    // as sampling in this process blocks it: no client connection waits meanwhile.
    const { ids } = promptTokens(policy.tokenizer, [{ role: 'user', content: 'Bid 5.' }], 96, 60);
    rawReplies = SEEDS.map(
      (seed) =>
        generate(policy.model, policy.tokenizer, [{ promptIds: ids, seed }], {
          temperature: 1,
          maxTokens: 60,
          stopTokenIds: [policy.tokenizer.specialTokens.eos],
        })[0].text,
    );
    const url = new URL(scratchServerUrl());
    url.pathname = `/${platform.databaseName}`;
    env = {
      DATABASE_URL: url.toString(),
      RECON_BLOB_DIR: (platform.blobStore as FileBlobStore).root,
      RECON_BACKEND: 'cpu',
    };
    dir = mkdtempSync(join(tmpdir(), 'recon-serve-token-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    server = spawn(
      process.execPath,
      [RECON_BIN, 'serve', 'tiny-run:sft', '--port', '0', '--model-name', 'tiny', '--token-file', tokenFile],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    baseURL = await new Promise<string>((done, fail) => {
      server.stdout!.on('data', (chunk: Buffer) => {
        startup += chunk.toString();
        const match = /listening on (\S+)[^\n]*\n.*\n/.exec(startup);
        if (match) done(match[1]);
      });
      server.stderr!.on('data', (chunk: Buffer) => (startup += chunk.toString()));
      server.once('exit', (code) => fail(new Error(`recon serve exited ${code}: ${startup}`)));
    });
    client = new OpenAI({ apiKey: TOKEN, baseURL, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((done) => server.once('exit', done));
      server.kill('SIGTERM');
      await exited;
    }
    policy?.model.dispose();
    rmSync(dir, { recursive: true, force: true });
    await platform?.close();
  });

  it('says in --help and at startup whether a token is required', async () => {
    const help = await runRecon(['serve', '--help'], env);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(
      /no token is required unless --token-file or RECON_SERVE_TOKEN is given/,
    );
    expect(help.stdout).toContain('--token-file <path>');
    expect(startup).toContain(`bearer token required (from ${join(dir, 'token')})`);
  });

  it('lists and retrieves the model; an unknown model is a 404 in OpenAI error shape', async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => [m.id, m.object, m.owned_by])).toEqual([['tiny', 'model', 'recon']]);
    expect(await client.models.retrieve('tiny')).toMatchObject({ id: 'tiny', object: 'model' });
    expect(await apiError(client.models.retrieve('gpt-nope'))).toEqual({
      status: 404,
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
      message: "404 the model 'gpt-nope' does not exist: this server serves 'tiny'",
    });
  });

  it('completes with developer, system, user and assistant messages; seed, max_tokens and n honoured', async () => {
    const first = await client.chat.completions.create(base);
    expect(first).toMatchObject({ object: 'chat.completion', model: 'tiny' });
    expect(first.choices).toHaveLength(1);
    expect(first.choices[0].message.role).toBe('assistant');
    expect(['stop', 'length']).toContain(first.choices[0].finish_reason);
    expect(first.usage!.completion_tokens).toBeLessThanOrEqual(24);
    expect(first.usage!.total_tokens).toBe(first.usage!.prompt_tokens + first.usage!.completion_tokens);
    expect((await client.chat.completions.create(base)).choices).toEqual(first.choices);
    const short = await client.chat.completions.create({
      ...base,
      max_tokens: undefined,
      max_completion_tokens: 2,
    });
    expect(short.usage!.completion_tokens).toBeLessThanOrEqual(2);
    const several = await client.chat.completions.create({ ...base, n: 3 });
    expect(several.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(several.choices[0]).toEqual(first.choices[0]); // choice i is seeded seed + i
    const greedy = { ...base, temperature: 0, seed: undefined };
    expect((await client.chat.completions.create(greedy)).choices).toEqual(
      (await client.chat.completions.create(greedy)).choices,
    );
  });

  it('streams chat.completion.chunk events: role, content deltas, finish_reason, usage, [DONE]', async () => {
    const whole = await client.chat.completions.create({ ...base, n: 2 });
    const stream = await client.chat.completions.create({
      ...base,
      n: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
    for (const index of [0, 1]) {
      const mine = chunks.flatMap((c) => c.choices.filter((choice) => choice.index === index));
      expect(mine[0].delta).toEqual({ role: 'assistant', content: '' });
      expect(mine.at(-1)!.finish_reason).toBe(whole.choices[index].finish_reason);
      expect(mine.slice(0, -1).every((choice) => choice.finish_reason === null)).toBe(true);
      // Streamed or not, the same seed gives the same reply.
      expect(mine.map((choice) => choice.delta.content ?? '').join('')).toBe(
        whole.choices[index].message.content,
      );
    }
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: whole.usage });
  });

  it('streams through the .stream() helper', async () => {
    const whole = await client.chat.completions.create(base);
    const deltas: string[] = [];
    const stream = client.chat.completions.stream(base).on('content', (delta) => deltas.push(delta));
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].message.content).toBe(whole.choices[0].message.content);
    expect(deltas.join('')).toBe(whole.choices[0].message.content);
    expect(final.choices[0].finish_reason).toBe(whole.choices[0].finish_reason);
  });

  it('holds back a stop string while streaming and never sends it', async () => {
    const whole = await client.chat.completions.create({ ...base, max_tokens: 40 });
    const text = whole.choices[0].message.content!;
    const stop = text.slice(3, 5);
    expect(stop).toHaveLength(2); // the seed gives a reply long enough to cut
    const stream = await client.chat.completions.create({
      ...base,
      max_tokens: 40,
      stop: [stop],
      stream: true,
    });
    let streamed = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(streamed).toBe(text.slice(0, text.indexOf(stop)));
    expect(finish).toBe('stop');
  });

  it('never puts control tokens or U+FFFD in a reply, where decoding every sampled token did', async () => {
    const request = {
      model: 'tiny',
      messages: [{ role: 'user' as const, content: 'Bid 5.' }],
      max_tokens: 60,
    };
    const replies: string[] = [];
    for (const seed of SEEDS) {
      const reply = await client.chat.completions.create({ ...request, seed });
      replies.push(reply.choices[0].message.content!);
      const stream = await client.chat.completions.create({ ...request, seed, stream: true });
      let streamed = '';
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
      expect(streamed).toBe(reply.choices[0].message.content);
    }
    expect(replies.filter(hasControlOrReplacement)).toEqual([]);
    // The same samples decoded token by token, as before: the check above is not vacuous.
    expect(rawReplies.filter(hasControlOrReplacement).length).toBeGreaterThan(0);
  });

  it('shortens a prompt of 215 KB from the left, streamed or not', async () => {
    const long = [{ role: 'user' as const, content: LONG_PROMPT }];
    const reply = await client.chat.completions.create({
      model: 'tiny',
      messages: long,
      max_tokens: 4,
      seed: 1,
    });
    expect(reply.usage!.prompt_tokens + reply.usage!.completion_tokens).toBeLessThanOrEqual(96);
    const stream = await client.chat.completions.create({
      model: 'tiny',
      messages: long,
      max_tokens: 4,
      seed: 1,
      stream: true,
    });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe(reply.choices[0].message.content);
  });

  it('refuses unsupported parameters in OpenAI error shape, naming them', async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'price', parameters: { type: 'object', properties: {} } } },
    ];
    const cases: Array<[Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming>, string]> = [
      [{ tools }, 'tools'],
      [{ response_format: { type: 'json_object' } }, 'response_format'],
      [{ logprobs: true }, 'logprobs'],
    ];
    for (const [extra, param] of cases) {
      expect(await apiError(client.chat.completions.create({ ...base, ...extra }))).toMatchObject({
        status: 400,
        type: 'invalid_request_error',
        param,
        code: 'unsupported_parameter',
        message: expect.stringContaining(`unsupported parameter '${param}'`),
      });
    }
    const invalid = await apiError(
      client.chat.completions.create({
        ...base,
        messages: [{ role: 'tool', content: 'x', tool_call_id: 't' }],
      }),
    );
    expect(invalid).toMatchObject({ status: 400, param: 'messages.0.role', type: 'invalid_request_error' });
  });

  it('refuses a wrong or missing token with 401 in OpenAI error shape, before reading the body', async () => {
    const wrong = new OpenAI({ apiKey: 'not-the-token', baseURL, maxRetries: 0 });
    expect(await apiError(wrong.chat.completions.create(base))).toMatchObject({
      status: 401,
      type: 'invalid_request_error',
      code: 'invalid_api_key',
      message: '401 the API key is not the token this server requires',
    });
    expect((await apiError(wrong.models.list())).status).toBe(401);
    // 20 MB without a token: 401, not 413 (the body is never parsed).
    const { hostname, port } = new URL(baseURL);
    const anonymous = await new Promise<{ status: number; body: string }>((done, fail) => {
      const body = Buffer.alloc(20 * 1024 * 1024, 0x61);
      const req = httpRequest(
        {
          host: hostname,
          port,
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? undefined : fail(error)));
      req.end(body);
    });
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toEqual({
      error: {
        message: expect.stringMatching(
          /^this server requires an API key: send "Authorization: Bearer <token>"/,
        ),
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
  });

  it('answers malformed JSON, an unknown route and a too large body in OpenAI error shape', async () => {
    const post = async (path: string, body: string) => {
      const response = await fetch(`${baseURL}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body,
      });
      return { status: response.status, body: (await response.json()) as { error: Record<string, unknown> } };
    };
    const malformed = await post('/chat/completions', '{"messages": [');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringMatching(/^the request body is not valid JSON: /),
    });
    const unknown = await post('/completions', '{}');
    expect(unknown).toEqual({
      status: 404,
      body: {
        error: {
          message: 'Cannot POST /v1/completions',
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      },
    });
    const large = await post(
      '/chat/completions',
      JSON.stringify({ messages: [{ role: 'user', content: 'a'.repeat(17e6) }] }),
    );
    expect(large.status).toBe(413);
    expect(large.body.error.message).toBe("the request body is larger than the server's limit of 16mb");
  });

  it('goes on serving after a client goes away mid-stream', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { ...base, max_tokens: 60, stream: true },
      { signal: controller.signal },
    );
    try {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.role) controller.abort();
    } catch {
      // the aborted read
    }
    expect((await client.chat.completions.create(base)).choices).toHaveLength(1);
  });
});

describe('recon serve limit of wrong tokens', () => {
  it('answers 429 with Retry-After to an address that sent too many wrong tokens, checking none meanwhile', async () => {
    const platform = await createTestPlatform();
    const { checkpointHash } = await recordTinyCheckpoint(platform, 'tiny-run');
    const policy = await loadPolicyCheckpoint(platform.blobStore, checkpointHash);
    const app = await createServeApp(
      { policy: builtinChatPolicy(policy), modelName: 'tiny', created: 0 },
      { token: TOKEN, authFailuresPerMinute: 3, logger: false },
    );
    try {
      await app.listen(0, '127.0.0.1');
      const baseURL = `${(await app.getUrl()).replace('[::1]', 'localhost')}/v1`;
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        statuses.push(
          (await apiError(new OpenAI({ apiKey: `guess-${i}`, baseURL, maxRetries: 0 }).models.list()))
            .status!,
        );
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const refused = await fetch(`${baseURL}/models`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await refused.json()).toEqual({
        error: {
          message: expect.stringMatching(
            /^too many refused API tokens from this address: at most 3 per 60 s; retry in \d+ s$/,
          ),
          type: 'rate_limit_error',
          param: null,
          code: 'rate_limit_exceeded',
        },
      });
    } finally {
      await app.close();
      policy.model.dispose();
      await platform.close();
    }
  });
});
