import 'reflect-metadata';
import { maxHeaderSize, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Module, type INestApplication } from '@nestjs/common';
import { InProcessEventBus } from '@recon/transport';
import {
  createServiceApp,
  PlatformModule,
  issueToken,
  listRoutes,
  revokeToken,
  type Role,
} from '@recon/service-kit';
import { ApiModule } from '../../services/api/src/http/api.module';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { syntheticRunBlobs } from '../../apps/cli/src/demo/synthetic-run';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

/** The least role each route needs; a new route must be added here (the enumeration test fails until it is). */
const ROUTE_ROLES: Record<string, Role | 'public'> = {
  'GET /health/live': 'public',
  'GET /health/ready': 'public',
  'GET /runs': 'viewer',
  'GET /runs/:runId': 'viewer',
  'GET /runs/:runId/events': 'viewer',
  'GET /runs/:runId/audit': 'viewer',
  'GET /metrics': 'viewer',
  'GET /runs/:runId/view': 'viewer',
  'GET /runs/:runId/steps/:step/groups': 'viewer',
  'GET /runs/:runId/matches': 'viewer',
  'GET /runs/:runId/matches/:matchId': 'viewer',
  'GET /runs/:runId/audit/report': 'viewer',
  'GET /runs/:runId/audit/verification': 'viewer',
  // Starts `recon replay --verify` of the run (a child process the gateway ends when it closes).
  'POST /runs/:runId/audit/verification': 'operator',
  'GET /compare': 'viewer',
  'GET /live/runs': 'viewer',
  // The explorer's static files hold no data (its views call the routes above with the user's token).
  'GET /': 'public',
  'GET /explorer': 'public',
  'GET /explorer/assets/:name': 'public',
};

describe('api gateway over HTTP', () => {
  let platform: TestPlatform;
  let app: INestApplication;
  let base: string;
  const tokens = {} as Record<Role, string>;
  beforeAll(async () => {
    platform = await createTestPlatform();
    const bus = new InProcessEventBus(platform.eventStore, platform.pool);
    @Module({ imports: [PlatformModule.forRoot(platform, bus), ApiModule.forRoot({ requestsPerMinute: 1000 })] })
    class TestAppModule {}
    app = await createServiceApp(TestAppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    // The run audit reads back every blob the run names (its checkpoint).
    for (const blob of syntheticRunBlobs('http-run')) await platform.blobStore.put(blob);
    await platform.eventStore.append('http-run', syntheticRunEvents('http-run'), {
      expectedVersion: 'no-stream',
      producer: TEST_PRODUCER,
    });
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      tokens[role] = (await issueToken(platform, { name: role, role, expiresInMs: null, actor: 'test' }, TEST_PRODUCER)).token;
    }
  });
  afterAll(async () => {
    await app.close();
    await platform.close();
  });

  const call = async (method: string, path: string, token?: string) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    // A stream of server-sent events does not end: its status is the answer.
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
      await response.body?.cancel();
      return { status: response.status, body: null };
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response shapes are asserted below
    return { status: response.status, body: (await response.json().catch(() => null)) as any };
  };
  const get = (path: string, token: string | undefined = tokens.viewer) => call('GET', path, token);

  it('answers liveness and readiness without a token', async () => {
    expect(await get('/health/live', undefined)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get('/health/ready', undefined)).toEqual({ status: 200, body: { status: 'ok', database: 'up' } });
  });

  it('lists runs, returns a run, its events filtered by type, and its audit', async () => {
    const runs = await get('/runs');
    expect(runs.body.map((r: { runId: string }) => r.runId)).toEqual(['http-run']);
    expect((await get('/runs/http-run')).body.status).toBe('completed');
    const rewards = await get('/runs/http-run/events?type=reward.scored');
    expect(rewards.body).toHaveLength(6);
    expect((await get('/runs/http-run/audit')).body.ok).toBe(true);
  });

  it('lists external evaluations beside training runs, with their kind, model and redacted endpoint', async () => {
    await platform.eventStore.append(
      'http-ext',
      [
        {
          type: 'external.evaluation.requested',
          payload: {
            policy: { kind: 'openai', baseUrl: 'https://me:sk-secret@models.example/v1?api-key=k-secret', model: 'm-7b' },
            suites: ['complete-info'],
            seed: 3,
            settings: {},
            datasets: [],
            requestedBy: 'test',
            codeVersion: 'test',
          },
        },
        { type: 'run.failed', payload: { phase: 'external-evaluation:complete-info', error: 'server down' } },
      ],
      { expectedVersion: 'no-stream', producer: TEST_PRODUCER },
    );
    const runs = await get('/runs');
    expect(runs.body.map((r: { runId: string; kind: string }) => [r.runId, r.kind])).toEqual([
      ['http-run', 'training'],
      ['http-ext', 'external-eval'],
    ]);
    expect(runs.body[0]).toMatchObject({ model: 'builtin', baseUrl: null });
    expect(runs.body[1]).toMatchObject({
      name: 'm-7b',
      model: 'm-7b',
      baseUrl: 'https://me:***@models.example/v1?api-key=***',
      status: 'failed',
      failure: 'external-evaluation:complete-info: server down',
      eventCount: 2,
    });
    expect(JSON.stringify(runs.body)).not.toContain('secret');
    expect((await get('/runs/http-ext')).body.kind).toBe('external-eval');
  });

  it("answers a request Node's HTTP parser refuses with the gateway's JSON error shape", async () => {
    const { port } = new URL(base);
    /** Sends raw bytes and reads the answer until the server closes the connection. */
    const raw = (request: string) =>
      new Promise<{ status: number; contentType: string; body: unknown }>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('error', reject);
        socket.on('close', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const [head, body] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)];
          resolve({
            status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
            contentType: /^content-type: (.*)$/im.exec(head)?.[1] ?? '',
            body: body === '' ? null : JSON.parse(body),
          });
        });
        socket.end(request);
      });
    const oversized = await raw(
      `GET /runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.viewer}\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
    );
    expect(oversized).toEqual({
      status: 431,
      contentType: 'application/json; charset=utf-8',
      body: {
        statusCode: 431,
        error: 'Request Header Fields Too Large',
        message: expect.stringMatching(new RegExp(`^request line and headers exceed ${maxHeaderSize} bytes, the server's limit`)),
      },
    });
    const malformed = await raw('GET /runs HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(malformed).toEqual({
      status: 400,
      contentType: 'application/json; charset=utf-8',
      body: {
        statusCode: 400,
        error: 'Bad Request',
        message: expect.stringMatching(/^malformed HTTP request \(HPE_INVALID_HEADER_TOKEN\): /),
      },
    });
    // HEAD gets the headers of that answer and no body, as HTTP requires.
    const head = await raw(`HEAD /runs HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    expect(head).toEqual({ status: 431, contentType: 'application/json; charset=utf-8', body: null });
    // The server goes on answering.
    expect((await get('/health/live', undefined)).status).toBe(200);
  });

  it('exposes event-pipeline metrics read from the log', async () => {
    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${tokens.viewer}` } });
    const text = await response.text();
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(text).toMatch(/recon_log_events\{type="reward.scored",service="api"\} 6/);
    expect(text).toMatch(/recon_log_head_position\{service="api"\} \d+/);
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('names what is wrong in a bad request and a missing run', async () => {
    const bad = await get('/runs/http-run/events?type=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe("query 'type': 'nope' is not a known event type");
    expect((await get('/runs/http-run/events?from=-2')).status).toBe(400);
    const missing = await get('/runs/missing');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe("run 'missing' does not exist");
  });

  it('refuses a stream position beyond PostgreSQL integers with 400, not 500', async () => {
    for (const from of ['2147483648', '99999999999999999999', '1e10', '0x10', '1.0']) {
      const reply = await get(`/runs/http-run/events?from=${from}`);
      expect([from, reply.status, reply.body.message]).toEqual([
        from,
        400,
        `query 'from': expected a stream position from 1 to 2147483647, got '${from}'`,
      ]);
    }
    expect(await get('/runs/http-run/events?from=2147483647')).toEqual({ status: 200, body: [] });
    expect((await get('/runs/http-run/events?from=3')).body[0].position).toBe(3);
  });

  it('pages the events of a run (limit, after, a Link to the next page) and sorts runs stably', async () => {
    const all = (await get('/runs/http-run/events')).body as Array<{ position: number }>;
    const first = await fetch(`${base}/runs/http-run/events?limit=5`, { headers: { authorization: `Bearer ${tokens.viewer}` } });
    const page = (await first.json()) as Array<{ position: number }>;
    expect(page.map((e) => e.position)).toEqual([1, 2, 3, 4, 5]);
    expect(first.headers.get('x-next-after')).toBe('5');
    expect(first.headers.get('link')).toBe('</runs/http-run/events?after=5&limit=5>; rel="next"');
    const rest = await get('/runs/http-run/events?after=5&limit=5000');
    expect(rest.body.map((e: { position: number }) => e.position)).toEqual(all.slice(5).map((e) => e.position));
    const rewards = await fetch(`${base}/runs/http-run/events?type=reward.scored&limit=4`, {
      headers: { authorization: `Bearer ${tokens.viewer}` },
    });
    expect(((await rewards.json()) as unknown[]).length).toBe(4);
    expect(rewards.headers.get('link')).toMatch(/after=\d+&limit=4&type=reward.scored>; rel="next"$/);
    for (const [query, message] of [
      ['limit=0', "query 'limit': expected 1 to 5000 events, got '0'"],
      ['limit=5001', "query 'limit': expected 1 to 5000 events, got '5001'"],
      ['after=x', "query 'after': expected a stream position from 0 to 2147483646, got 'x'"],
      ['after=1&from=2', "query: give 'from' or 'after', not both"],
    ]) {
      expect([query, await get(`/runs/http-run/events?${query}`)]).toEqual([query, { status: 400, body: expect.objectContaining({ message }) }]);
    }
    const byName = (await get('/runs?sort=-name')).body.map((r: { name: string }) => r.name);
    expect(byName).toEqual([...byName].sort().reverse());
    expect((await get('/runs?sort=secret')).status).toBe(400);
    // Each run carries the time of its last event, from which the explorer tells running from stalled.
    const lastEventAt = (all.at(-1) as { occurredAt?: string }).occurredAt;
    expect((await get('/runs/http-run')).body).toMatchObject({ eventCount: all.length, lastEventAt });
    const byLastEvent = (await get('/runs?sort=-lastEventAt')).body.map((r: { lastEventAt: string }) => r.lastEventAt);
    expect(byLastEvent).toEqual([...byLastEvent].sort().reverse());
  });

  it('shows the access stream (token names, roles and secret hashes) to admins only', async () => {
    for (const role of ['viewer', 'operator'] as const) {
      for (const path of ['/runs/access/events', '/runs/access/audit']) {
        const refused = await get(path, tokens[role]);
        expect([path, refused.status, refused.body.message]).toEqual([
          path,
          403,
          `the stream 'access' needs the role 'admin'; the token has '${role}'`,
        ]);
        expect(JSON.stringify(refused.body)).not.toContain('secretHash');
      }
    }
    const events = await get('/runs/access/events', tokens.admin);
    expect(events.status).toBe(200);
    expect(events.body.map((e: { type: string }) => e.type)).toContain('access.token.created');
    expect((await get('/runs/access/audit', tokens.admin)).body.ok).toBe(true);
  });

  it('refuses a request without a token before reading its body: 401 for 20 MB, not 413', async () => {
    const { hostname, port } = new URL(base);
    const sendBody = (method: string, token?: string) =>
      new Promise<{ status: number; body: { message: string } }>((resolve, reject) => {
        const body = Buffer.alloc(20 * 1024 * 1024, 0x61);
        const req = httpRequest(
          {
            host: hostname,
            port,
            method,
            path: '/runs',
            headers: {
              'content-type': 'application/json',
              'content-length': String(body.length),
              ...(token ? { authorization: `Bearer ${token}` } : {}),
            },
          },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          },
        );
        // The server may answer and close before the whole body is sent.
        req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? undefined : reject(error)));
        req.end(body);
      });
    const anonymous = await sendBody('GET');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.message).toMatch(/requires an API token/);
    // No route takes a body: with a token the body is not parsed either.
    expect((await sendBody('GET', tokens.viewer)).status).toBe(200);
  });

  it('refuses every non-public route without a token and below its role (routes enumerated from the router)', async () => {
    const routes = listRoutes(app);
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(Object.keys(ROUTE_ROLES).sort());
    for (const route of routes) {
      const needed = ROUTE_ROLES[`${route.method} ${route.path}`];
      if (needed === 'public') continue;
      const path = route.path.replace(':runId', 'http-run').replace(':step', '1');
      const anonymous = await call(route.method, path);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.message).toMatch(/requires an API token/);
      expect((await call(route.method, path, 'recon_0123456789abcdef_not-a-real-secret-not-a-real-secret-12345')).status).toBe(401);
      const roles = ['viewer', 'operator', 'admin'] as const;
      for (const role of roles) {
        const response = await call(route.method, path, tokens[role]);
        const allowed = roles.indexOf(role) >= roles.indexOf(needed);
        expect([route.path, role, response.status === 403]).toEqual([route.path, role, !allowed]);
      }
    }
  });

  it('refuses a revoked or expired token', async () => {
    const issued = await issueToken(platform, { name: 'temp', role: 'viewer', expiresInMs: null, actor: 'test' }, TEST_PRODUCER);
    expect((await get('/runs', issued.token)).status).toBe(200);
    await revokeToken(platform, { tokenId: issued.tokenId, reason: 'test', actor: 'test' }, TEST_PRODUCER);
    expect(await get('/runs', issued.token)).toMatchObject({ status: 401, body: { message: 'API token refused: token revoked' } });
    const expired = await issueToken(platform, { name: 'old', role: 'admin', expiresInMs: -1000, actor: 'test' }, TEST_PRODUCER);
    expect((await get('/runs', expired.token)).body.message).toBe('API token refused: token expired');
    const events = await platform.eventStore.readStream('access');
    expect(events.map((e) => e.type)).toContain('access.token.revoked');
    // The secret is base64url and may itself contain '_': take everything after `recon_<tokenId>_`.
    const secret = issued.token.slice(`recon_${issued.tokenId}_`.length);
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(events)).not.toContain(secret);
  });
});

describe('api gateway rate limit', () => {
  it('refuses requests over the per-token limit with 429, naming the limit, and counts tokens apart', async () => {
    const platform = await createTestPlatform();
    const bus = new InProcessEventBus(platform.eventStore, platform.pool);
    @Module({ imports: [PlatformModule.forRoot(platform, bus), ApiModule.forRoot({ requestsPerMinute: 3 })] })
    class LimitedModule {}
    const app = await createServiceApp(LimitedModule, { logger: false });
    try {
      await app.listen(0, '127.0.0.1');
      const base = await app.getUrl();
      const issue = async (name: string) =>
        (await issueToken(platform, { name, role: 'viewer', expiresInMs: null, actor: 'test' }, TEST_PRODUCER)).token;
      const [first, second] = [await issue('a'), await issue('b')];
      const get = (token: string) => fetch(`${base}/runs`, { headers: { authorization: `Bearer ${token}` } });
      for (let i = 0; i < 3; i += 1) expect((await get(first)).status).toBe(200);
      const refused = await get(first);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await refused.json()) as { message: string }).message).toMatch(
        /^rate limit exceeded: at most 3 requests per 60 s per API token; retry in \d+ s$/,
      );
      expect((await get(second)).status).toBe(200);
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
    } finally {
      await app.close();
      await platform.close();
    }
  });
});

describe('api gateway limit of refused tokens', () => {
  it('answers 429 with Retry-After to an address that presented too many refused tokens, checking none meanwhile', async () => {
    const platform = await createTestPlatform();
    const bus = new InProcessEventBus(platform.eventStore, platform.pool);
    @Module({
      imports: [
        PlatformModule.forRoot(platform, bus),
        ApiModule.forRoot({ requestsPerMinute: 1000, authFailuresPerMinute: 5 }),
      ],
    })
    class GuardedModule {}
    const app = await createServiceApp(GuardedModule, { logger: false });
    try {
      await app.listen(0, '127.0.0.1');
      const base = await app.getUrl();
      const valid = (
        await issueToken(platform, { name: 'v', role: 'viewer', expiresInMs: null, actor: 'test' }, TEST_PRODUCER)
      ).token;
      const get = (token?: string) =>
        fetch(`${base}/runs`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      // A missing token is not a guess: it does not count.
      for (let i = 0; i < 10; i += 1) expect((await get()).status).toBe(401);
      expect((await get(valid)).status).toBe(200);
      const guesses: number[] = [];
      for (let i = 0; i < 8; i += 1) guesses.push((await get(`recon_0123456789abcdef_${'x'.repeat(42)}${i}`)).status);
      expect(guesses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
      const refused = await get(valid);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { message: string }).message).toMatch(
        /^too many refused API tokens from this address: at most 5 per 60 s; retry in \d+ s$/,
      );
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
    } finally {
      await app.close();
      await platform.close();
    }
  });
});
