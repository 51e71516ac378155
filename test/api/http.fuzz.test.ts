import 'reflect-metadata';
import { Agent, request } from 'node:http';
import { Module, type INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { InProcessEventBus } from '@recon/transport';
import { createServiceApp, PlatformModule, issueToken, listRoutes } from '@recon/service-kit';
import { ApiModule } from '../../services/api/src/http/api.module';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

const RUNS = 2000;
const LIMITED_RUNS = 200;
const LIMITED_PER_MINUTE = 10;
const SEED = 5050;
const MUTATING = ['POST', 'PUT', 'PATCH', 'DELETE'];
/** 431: a request line + headers over Node's 16 KiB, refused by its parser before the app (JSON all the same). */
const ALLOWED = [200, 304, 400, 401, 403, 404, 413, 415, 429, 431];
const HEADERS_TOO_LARGE = 431;

interface Reply {
  status: number;
  contentType: string;
  body: string;
  retryAfter?: string;
}

describe('api gateway under generated malformed requests', () => {
  let platform: TestPlatform;
  let app: INestApplication;
  let port: number;
  let routes: string[];
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const tokens: string[] = [];
  beforeAll(async () => {
    platform = await createTestPlatform();
    const bus = new InProcessEventBus(platform.eventStore, platform.pool);
    // The limits are raised so the run is not mostly 429s; 429 stays an allowed answer.
    @Module({
      imports: [
        PlatformModule.forRoot(platform, bus),
        ApiModule.forRoot({ requestsPerMinute: 100_000, authFailuresPerMinute: 100_000 }),
      ],
    })
    class FuzzAppModule {}
    app = await createServiceApp(FuzzAppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    port = Number(new URL(await app.getUrl()).port);
    await platform.eventStore.append('http-run', syntheticRunEvents('http-run'), {
      expectedVersion: 'no-stream',
      producer: TEST_PRODUCER,
    });
    for (const role of ['viewer', 'admin'] as const) {
      tokens.push(
        (await issueToken(platform, { name: role, role, expiresInMs: null, actor: 'test' }, TEST_PRODUCER))
          .token,
      );
    }
    routes = listRoutes(app).map((r) => r.path);
  });
  afterAll(async () => {
    agent.destroy();
    await app.close();
    await platform.close();
  });

  const logDigest = async () =>
    (
      await platform.pool.query<{ digest: string }>(
        `SELECT md5(string_agg(hash || payload::text, ',' ORDER BY global_position)) AS digest FROM recon_events`,
      )
    ).rows[0].digest;

  const send = (
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer | null,
    to = port,
  ) =>
    new Promise<Reply>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: to,
          method,
          path,
          headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
          agent,
        },
        (res) => {
          // A stream of server-sent events (/live/runs) does not end: its status and type are the answer.
          if (String(res.headers['content-type']).startsWith('text/event-stream')) {
            res.destroy();
            resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: '', retryAfter: undefined });
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              contentType: String(res.headers['content-type'] ?? ''),
              body: Buffer.concat(chunks).toString('utf8'),
              retryAfter: res.headers['retry-after'],
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body ?? undefined);
    });

  const segment = fc.oneof(
    fc.constantFrom(
      'http-run',
      'missing',
      'events',
      'audit',
      '%',
      '%zz',
      '%c3%28',
      '..',
      '.',
      '',
      '%2e%2e',
      '%00',
      'runs',
      'health',
      'live',
      'ready',
      'metrics',
    ),
    fc.string({ maxLength: 12 }).map(encodeURIComponent),
    fc.nat({ max: 5000 }).map((n) => 'x'.repeat(n)),
  );
  const path = fc.oneof(
    fc.tuple(fc.nat(), segment).map(([i, s]) => routes[i % routes.length].replace(':runId', s)),
    fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
  );
  const queryValue = fc.oneof(
    fc.constantFrom(
      'reward.scored',
      'nope',
      '-2',
      '1e999',
      '0',
      '99999999999999999999',
      '%',
      '%zz',
      '',
      'NaN',
      '1.5',
    ),
    fc.string({ maxLength: 10 }).map(encodeURIComponent),
  );
  const query = fc
    .array(
      fc.tuple(fc.constantFrom('type', 'from', 'type[]', 'from[a]', 'x', '__proto__', '%'), queryValue),
      { maxLength: 4 },
    )
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));
  const authorization = fc.oneof(
    fc.constant<string | undefined>(undefined),
    fc.nat({ max: 1 }).map((i) => `Bearer ${tokens[i]}`),
    fc.constantFrom(
      'Bearer ',
      'Bearer',
      'Basic dXNlcjpwYXNz',
      'bearer x',
      'Bearer recon_0123456789abcdef_not-a-real-secret-not-a-real-secret-12345',
      'Bearer recon__',
      `Bearer ${'a'.repeat(10_000)}`,
    ),
    fc
      .string({ unit: fc.constantFrom(...'abcXYZ012_-. '.split('')), maxLength: 40 })
      .map((s) => `Bearer ${s}`),
  );
  const contentType = fc.constantFrom<string | undefined>(
    undefined,
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/json; charset=latin1',
    'multipart/form-data',
    'application/octet-stream',
  );
  const body = fc.oneof(
    fc.constant<Buffer | null>(null),
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
    fc
      .constantFrom('{', '{"a":', '[1,2', 'null', '"x"', '{"__proto__": {"admin": true}}')
      .map((s) => Buffer.from(s)),
    fc.nat({ max: 3 }).map((n) => Buffer.from(`{"x":"${'y'.repeat(150_000 * (n + 1))}"}`)),
  );
  const requestArb = fc.record({
    method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'),
    path,
    query,
    authorization,
    contentType,
    body,
    extra: fc.dictionary(
      fc.constantFrom(
        'x-forwarded-for',
        'accept',
        'accept-encoding',
        'x-request-id',
        'cookie',
        'if-none-match',
      ),
      fc.string({ unit: fc.constantFrom(...'abc,;=*/ 0123'.split('')), maxLength: 30 }),
    ),
  });

  it(`answers ${RUNS} generated requests with no 5xx, a JSON error naming the problem, and the log unchanged`, async () => {
    const before = await logDigest();
    const head = await platform.eventStore.headPosition();
    const statuses: Record<number, number> = {};
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(requestArb, async (generated) => {
        const headers: Record<string, string> = { ...generated.extra };
        if (generated.authorization !== undefined) headers.authorization = generated.authorization;
        if (generated.contentType !== undefined) headers['content-type'] = generated.contentType;
        const withBody = generated.method !== 'GET' && generated.method !== 'HEAD' ? generated.body : null;
        const target = `${generated.path}${generated.query}`;
        const reply = await send(generated.method, target, headers, withBody);
        statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
        const what = `${generated.method} ${target.slice(0, 120)} -> ${reply.status} ${reply.body.slice(0, 200)}`;
        if (!ALLOWED.includes(reply.status)) throw new Error(`unexpected status: ${what}`);
        if (reply.status === 304 && !['GET', 'HEAD'].includes(generated.method))
          throw new Error(`a 304 for a ${generated.method}: ${what}`);
        if (MUTATING.includes(generated.method) && reply.status < 400)
          throw new Error(`a mutating request succeeded: ${what}`);
        if (reply.status >= 400) {
          rejected += 1;
          if (generated.method === 'HEAD') return;
          if (!reply.contentType.startsWith('application/json'))
            throw new Error(`a non-JSON error: ${what} (${reply.contentType})`);
          const { message } = JSON.parse(reply.body) as { message?: unknown };
          const text = Array.isArray(message) ? message.join('; ') : message;
          if (typeof text !== 'string' || text.length < 5)
            throw new Error(`an error without a message: ${what}`);
        }
        if (MUTATING.includes(generated.method)) expect(await platform.eventStore.headPosition()).toBe(head);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // Found by this suite (a 500 from PostgreSQL): a run id holding NUL is a 400 naming the parameter.
    for (const route of [
      '/runs/a%00b',
      '/runs/a%00b/events',
      '/runs/a%00b/audit',
      `/runs/${'x'.repeat(201)}`,
    ]) {
      const reply = await send('GET', route, { authorization: `Bearer ${tokens[0]}` }, null);
      expect([reply.status, (JSON.parse(reply.body) as { message: string }).message]).toEqual([
        400,
        expect.stringMatching(/^path 'runId': expected 1-200 characters without NUL/),
      ]);
    }
    expect(await platform.eventStore.headPosition()).toBe(head);
    expect(await logDigest()).toBe(before);
    expect(rejected).toBeGreaterThan(RUNS / 2);
    const counts = Object.entries(statuses)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
    process.stdout.write(
      `http gateway fuzz: ${RUNS} cases, ${rejected} rejected (${counts}), 0 crashes, 0 5xx, log unchanged\n`,
    );
  });
  it(`under a limit of ${LIMITED_PER_MINUTE} requests a minute, refuses the rest of ${LIMITED_RUNS} generated requests with 429 naming the limit`, async () => {
    const bus = new InProcessEventBus(platform.eventStore, platform.pool);
    @Module({
      imports: [
        PlatformModule.forRoot(platform, bus),
        ApiModule.forRoot({ requestsPerMinute: LIMITED_PER_MINUTE }),
      ],
    })
    class LimitedModule {}
    const limited = await createServiceApp(LimitedModule, { logger: false });
    try {
      await limited.listen(0, '127.0.0.1');
      const limitedPort = Number(new URL(await limited.getUrl()).port);
      const head = await platform.eventStore.headPosition();
      // Health probes and the explorer's static files are public and not limited.
      const throttled = routes.filter((route) => !route.startsWith('/health') && route !== '/' && !route.startsWith('/explorer'));
      const throttledPath = fc
        .tuple(fc.nat(), segment)
        .map(([i, s]) => throttled[i % throttled.length].replace(':runId', s));
      let refused = 0;
      let passed = 0;
      /** A request the guards saw: a GET of a real route not refused by express's path decoding. */
      const guarded = (method: string, reply: Reply) =>
        method === 'GET' &&
        !reply.body.includes('Failed to decode param') &&
        !reply.body.includes('"Cannot GET ');
      const seen: Record<number, number> = {};
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('GET', 'GET', 'POST'),
          throttledPath,
          query,
          async (method, target, search) => {
            const reply = await send(
              method,
              `${target}${search}`,
              { authorization: `Bearer ${tokens[0]}` },
              null,
              limitedPort,
            );
            seen[reply.status] = (seen[reply.status] ?? 0) + 1;
            if (reply.status === HEADERS_TOO_LARGE) return;
            expect(ALLOWED).toContain(reply.status);
            if (reply.status !== 429) {
              if (guarded(method, reply)) passed += 1;
              return;
            }
            refused += 1;
            expect(reply.retryAfter).toMatch(/^\d+$/);
            expect((JSON.parse(reply.body) as { message: string }).message).toMatch(
              new RegExp(
                `^rate limit exceeded: at most ${LIMITED_PER_MINUTE} requests per 60 s per API token; retry in \\d+ s$`,
              ),
            );
          },
        ),
        { seed: SEED + 1, numRuns: LIMITED_RUNS },
      );
      const counts = Object.entries(seen)
        .map(([status, n]) => `${status}: ${n}`)
        .join(', ');
      // One budget per token over all routes (found by this suite: it was per route): only the first
      // LIMITED_PER_MINUTE guarded requests pass; 404s for unknown routes and 400s for undecodable paths come before the guard.
      expect([passed, counts]).toEqual([LIMITED_PER_MINUTE, counts]);
      expect(refused).toBeGreaterThan(0);
      expect(await platform.eventStore.headPosition()).toBe(head);
      process.stdout.write(
        `http rate-limit fuzz: ${LIMITED_RUNS} cases, ${refused} refused with 429 (${counts}), 0 crashes, log unchanged\n`,
      );
    } finally {
      await limited.close();
    }
  });
});
