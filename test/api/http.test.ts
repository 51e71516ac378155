import 'reflect-metadata';
import { maxHeaderSize } from 'node:http';
import { connect } from 'node:net';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InProcessEventBus } from '@recon/transport';
import { PlatformModule, issueToken, listRoutes, revokeToken, type Role } from '@recon/service-kit';
import { ApiModule } from '../../services/api/src/http/api.module';
import { createTestPlatform, type TestPlatform } from '../support/platform';
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
    app = await NestFactory.create(TestAppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
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

  it('refuses every non-public route without a token and below its role (routes enumerated from the router)', async () => {
    const routes = listRoutes(app);
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(Object.keys(ROUTE_ROLES).sort());
    for (const route of routes) {
      const needed = ROUTE_ROLES[`${route.method} ${route.path}`];
      if (needed === 'public') continue;
      const path = route.path.replace(':runId', 'http-run');
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
    const app = await NestFactory.create(LimitedModule, { logger: false });
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
