import { createServer, type Server } from 'node:http';
import { Registry } from 'prom-client';
import {
  createMetrics,
  followRunMetrics,
  isInstrumentedEventBus,
  logHeadPosition,
  registerEventPipelineMetrics,
} from '@recon/observability';
import type { Platform } from '@recon/persistence';
import type { EventBus } from '@recon/transport';

/** Default of `--metrics-linger`: more than two 15 s scrape intervals. */
export const DEFAULT_METRICS_LINGER_SECONDS = 35;

export interface RunMetricsServer {
  /**
   * Stops the exporter once a scrape has read the run's final values: it waits until the run metrics have
   * followed the log to its head, then for one scrape after that, at most `lingerMs` (0 closes at once).
   */
  close(lingerMs?: number): Promise<void>;
}

/**
 * `/metrics` for an embedded run (`recon run --metrics-port`): process metrics, the event-pipeline gauges,
 * the training, rollout, reward and evaluation metrics derived from the run's events as they commit, and
 * (when the run's bus is instrumented) what each embedded service's consumer group handled.
 * Unauthenticated, bound to 127.0.0.1: it is the local process's own exporter; the gateway's /metrics
 * (which needs a token) is the one to expose on a network.
 */
export async function serveRunMetrics(
  platform: Platform,
  bus: EventBus,
  port: number,
): Promise<RunMetricsServer> {
  const registry = new Registry();
  const metrics = createMetrics(registry, 'recon');
  registerEventPipelineMetrics(registry, platform.pool);
  if (isInstrumentedEventBus(bus)) bus.registerMetrics(registry);
  const consumer = await followRunMetrics(bus, metrics, 'metrics-embedded');
  // The follower's position when the latest completed scrape began: what that scrape could show.
  let scrapedUpTo = -1;
  const server: Server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end('only /metrics here\n');
      return;
    }
    const covers = consumer.position();
    registry
      .metrics()
      .then((text) => {
        response.writeHead(200, { 'Content-Type': registry.contentType }).end(text);
        scrapedUpTo = Math.max(scrapedUpTo, covers);
      })
      .catch((error: Error) => response.writeHead(500).end(`${error.message}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    close: async (lingerMs = 0) => {
      const head = await logHeadPosition(platform.pool).catch(() => 0);
      for (const deadline = Date.now() + lingerMs; Date.now() < deadline && scrapedUpTo < head;)
        await new Promise((r) => setTimeout(r, 100));
      await consumer.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
