import 'reflect-metadata';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PlatformModule, WorkerHttpModule, kafkaEventBusFor } from '@recon/service-kit';
import type { EventBus } from '@recon/transport';
import { acquireLocalBroker, type LocalBroker } from '../../scripts/kafka/local-broker';
import { createTestPlatform, type TestPlatform } from '../support/platform';

jest.setTimeout(60_000);

/** A port nothing listens on: bound, read, then released. */
async function closedPort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

describe('readiness of a service whose bus is Kafka (real broker)', () => {
  let broker: LocalBroker;
  let platform: TestPlatform;
  const apps: INestApplication[] = [];
  const buses: EventBus[] = [];
  const proxies: Array<{ server: Server; sockets: Set<Socket> }> = [];

  /** A worker's HTTP surface (health, metrics) on the Kafka bus `recon service` makes for these brokers. */
  const serve = async (brokers: string[]): Promise<string> => {
    const bus = kafkaEventBusFor('readiness-test', brokers, platform);
    buses.push(bus);
    @Module({ imports: [PlatformModule.forRoot(platform, bus), WorkerHttpModule.forRoot()] })
    class ProbeModule {}
    const app = await NestFactory.create(ProbeModule, { logger: false });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return app.getUrl();
  };
  const ready = async (base: string) => {
    const response = await fetch(`${base}/health/ready`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    broker = await acquireLocalBroker();
    platform = await createTestPlatform();
  }, 120_000);
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const bus of buses) await bus.close();
    for (const proxy of proxies) {
      for (const socket of proxy.sockets) socket.destroy();
      proxy.server.close();
    }
    await platform?.close();
    await broker?.release();
  });

  it('is ready when PostgreSQL and the brokers answer', async () => {
    const base = await serve(broker.brokers);
    expect(await ready(base)).toEqual({ status: 200, body: { status: 'ok', database: 'up', kafka: 'up' } });
  });

  it('answers 503 naming Kafka and the error while the brokers are unreachable', async () => {
    const port = await closedPort();
    const base = await serve([`127.0.0.1:${port}`]);
    const answer = await ready(base);
    expect(answer).toEqual({
      status: 503,
      body: {
        status: 'error',
        database: 'up',
        kafka: expect.stringMatching(new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}`)),
      },
    });
    // Liveness does not depend on Kafka: the process is fine, only not ready.
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
  });

  it('turns ready once the brokers become reachable', async () => {
    const port = await closedPort();
    const base = await serve([`127.0.0.1:${port}`]);
    expect((await ready(base)).status).toBe(503);
    // Now the port answers: a TCP relay to the real broker (whose metadata then names the broker itself).
    const [host, brokerPort] = broker.brokers[0].split(':');
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      const upstream = connect(Number(brokerPort), host);
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      socket.pipe(upstream).pipe(socket);
    });
    proxies.push({ server, sockets });
    await new Promise<void>((done) => server.listen(port, '127.0.0.1', () => done()));
    for (
      const start = Date.now();
      (await ready(base)).status !== 200;
      await new Promise((r) => setTimeout(r, 250))
    )
      if (Date.now() - start > 30_000)
        throw new Error('still not ready 30 s after the brokers became reachable');
    expect(await ready(base)).toEqual({ status: 200, body: { status: 'ok', database: 'up', kafka: 'up' } });
  });
});
