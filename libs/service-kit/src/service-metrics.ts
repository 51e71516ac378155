import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  defineMetrics,
  registerEventPipelineMetrics,
  registerKafkaConsumerLag,
  registerRelayMetrics,
  type KafkaLagSource,
  type ReconMetrics,
  type RelayMetricsSource,
} from '@recon/observability';
import type { Platform } from '@recon/persistence';
import { readEnvironment } from '@recon/config';

/** Injection token of the ServiceMetrics a service's /metrics serves. */
export const SERVICE_METRICS = Symbol('recon.service-metrics');

/** What a service exports beyond its process metrics; one exporter of each is enough per deployment. */
export interface ServiceMetricsOptions {
  /** The event-pipeline gauges read from the log at scrape time (the api service and gateway). */
  eventPipeline?: boolean;
  /**
   * Training, rollout, reward and evaluation metrics derived from the run events, which this service then
   * follows through the bus with its own consumer group (the api service; workers must not duplicate them).
   */
  runMetrics?: boolean;
  /** The log-to-Kafka relay this process runs: its lag and published events. */
  relay?: RelayMetricsSource | null;
  /** Over Kafka: consumer lag read from the group offsets (instead of the in-process bus's, from the log). */
  kafkaLag?: KafkaLagSource | null;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  /** The run metrics, when this service derives them from the run events (see RunMetricsFollower). */
  readonly run: ReconMetrics | null;
}

/** The registry of one service: every series labelled service=<name>, process metrics, then the options'. */
export function createServiceMetrics(
  platform: Platform,
  options: ServiceMetricsOptions,
  service = readEnvironment('RECON_SERVICE_NAME') ?? 'api',
): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  if (options.eventPipeline)
    registerEventPipelineMetrics(registry, platform.pool, { consumerLag: options.kafkaLag ? 'kafka' : 'log' });
  if (options.eventPipeline && options.kafkaLag) registerKafkaConsumerLag(registry, options.kafkaLag);
  if (options.relay) registerRelayMetrics(registry, platform.pool, options.relay);
  return { registry, run: options.runMetrics ? defineMetrics(registry) : null };
}
