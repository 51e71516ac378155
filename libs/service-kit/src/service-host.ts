import { Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { logLevel } from 'kafkajs';
import { Logger, LoggerModule } from 'nestjs-pino';
import { DEAD_LETTER_TOPIC, EVENTS_TOPIC } from '@recon/contracts';
import { instrumentEventBus, type InstrumentedEventBus } from '@recon/observability';
import type { Platform } from '@recon/persistence';
import { atLeast, eventLogger, rootLogger } from '@recon/logging';
import {
  HandlerFailedError,
  InProcessEventBus,
  KafkaEventBus,
  createKafkaClient,
  kafkaBrokersFromEnv,
  kafkaSecurityFromEnv,
  type EventBus,
  type KafkaEventBusOptions,
  type KafkaSecurity,
} from '@recon/transport';
import { authFailureLimiterProvider, authFailuresPerMinuteFromEnv, BearerTokenGuard } from './auth';
import { HealthController } from './health';
import { MetricsModule } from './metrics.module';
import { PlatformModule } from './platform.module';
import { readEnvironment } from '@recon/config';

/** KAFKA_BROKERS as a list, or null when the deployment is the in-process one (libs/transport kafka-config). */
export { kafkaBrokersFromEnv };

/**
 * Topic and consumer-group names. RECON_KAFKA_NAMESPACE=<ns> prefixes them (`<ns>.recon.events`, groups
 * `<ns>.rollout`...), so several deployments, or test suites, share one broker without sharing work.
 */
export function kafkaNamesFromEnv(): { topic: string; dlqTopic: string; groupPrefix: string } {
  const namespace = readEnvironment('RECON_KAFKA_NAMESPACE');
  const prefix = namespace ? `${namespace}.` : '';
  return {
    topic: `${prefix}${EVENTS_TOPIC}`,
    dlqTopic: `${prefix}${DEAD_LETTER_TOPIC}`,
    groupPrefix: prefix,
  };
}

/**
 * How long a process whose consumer stopped waits, before exiting, for a scrape to collect
 * recon_pipeline_errors_total (RECON_ERROR_EXIT_GRACE_SECONDS; default 35 s, two 15 s scrape intervals and
 * some); it exits as soon as one has.
 */
export function errorExitGraceMsFromEnv(): number {
  return (readEnvironment('RECON_ERROR_EXIT_GRACE_SECONDS') ?? 35) * 1000;
}

/**
 * The bus a service process consumes from: Kafka when KAFKA_BROKERS is set, else the log in-process. Its
 * handler and bus failures are counted in recon_pipeline_errors_total; a failure that stops a consumer
 * makes the process exit once the count has been scraped (see errorExitGraceMsFromEnv).
 */
export function eventBusFor(
  serviceName: string,
  platform: Platform,
  exit: (code: number) => void = (code) => process.exit(code),
): InstrumentedEventBus {
  const brokers = kafkaBrokersFromEnv();
  const graceMs = errorExitGraceMsFromEnv();
  // Assigned below: the failure hooks need the instrumented bus that wraps the bus they are given to.
  let instrumented: InstrumentedEventBus | null = null;
  const stopped = exitOnStoppedConsumer(serviceName, exit, () => instrumented?.errorsExported(graceMs));
  const onError = (error: Error) => stopped('a handler failed and its consumer stopped', error);
  const onBusError = (what: string, error: Error) => {
    instrumented?.busError();
    stopped(what, error);
  };
  instrumented = instrumentEventBus(
    brokers
      ? kafkaEventBusFor(serviceName, brokers, platform, kafkaSecurityFromEnv(), {
          onError,
          onConsumerCrash: (group, error) =>
            onBusError(`the consumer of group '${group}' crashed for good`, error),
          // kafkajs restarts it: counted, and the process carries on.
          onConsumerRestart: () => instrumented?.busError(),
        })
      : new InProcessEventBus(platform.eventStore, platform.pool, {
          onError,
          onBusError: (group, error) => onBusError(`reading the log for group '${group}' failed`, error),
        }),
  );
  return instrumented;
}

/**
 * A service whose consumer has stopped (its handler failed, e.g. on a database outage longer than its
 * retries, or kafkajs gave up on it) can no longer do its work: it exits non-zero, so its supervisor (`recon
 * up`, a Deployment) restarts it, and the new process resumes from the log and its group's offsets.
 */
export function exitOnStoppedConsumer(
  serviceName: string,
  exit: (code: number) => void = (code) => process.exit(code),
  /** Awaited before exiting: the error counter's scrape (eventBusFor), bounded by its grace period. */
  beforeExit: () => Promise<unknown> | undefined = () => undefined,
): (what: string, error: Error) => void {
  let exiting = false;
  return (what, error) => {
    // A handler's failure is logged with its event's run and ids (the bus reports it outside the handler).
    const log =
      error instanceof HandlerFailedError ? eventLogger(error.event, { group: error.group }) : rootLogger();
    log.fatal(
      { err: error instanceof HandlerFailedError ? error.reason : error },
      `${serviceName}: ${what}: ${error.message}; exiting (1) to be restarted`,
    );
    if (exiting) return;
    exiting = true;
    void Promise.resolve(beforeExit())
      .catch(() => undefined)
      .then(() => exit(1));
  };
}

/**
 * A service's Kafka bus, with the SASL and TLS settings of the environment (KAFKA_SASL_*, KAFKA_TLS*) unless
 * given. Its readiness probes use a client of their own that does not retry (an unreachable broker is
 * reported at once, with its error) and does not log (the probe's answer carries the error).
 */
export function kafkaEventBusFor(
  serviceName: string,
  brokers: string[],
  platform: Platform,
  security: KafkaSecurity = kafkaSecurityFromEnv(),
  /** What to do when a consumer stops on a failure (a service process exits: see exitOnStoppedConsumer). */
  failures: Pick<KafkaEventBusOptions, 'onError' | 'onConsumerCrash' | 'onConsumerRestart'> = {},
): KafkaEventBus {
  const config = { clientId: `recon-${serviceName}`, brokers };
  return new KafkaEventBus(createKafkaClient(config, security), {
    pool: platform.pool,
    ...kafkaNamesFromEnv(),
    ...failures,
    readiness: {
      client: createKafkaClient({ ...config, retry: { retries: 0 }, logLevel: logLevel.NOTHING }, security),
    },
  });
}

/**
 * Health and metrics of a worker service (metrics need a viewer token, as on the gateway). Its /metrics has
 * the process metrics only: the event-pipeline and run metrics come from the api service, once.
 */
@Module({})
export class WorkerHttpModule {
  static forRoot(): DynamicModule {
    return {
      module: WorkerHttpModule,
      imports: [MetricsModule.forRoot()],
      controllers: [HealthController],
      providers: [
        { provide: APP_GUARD, useClass: BearerTokenGuard },
        authFailureLimiterProvider(authFailuresPerMinuteFromEnv()),
      ],
    };
  }
}

export interface HostServiceOptions {
  name: string;
  platform: Platform;
  /** The service's own modules; worker services also get WorkerHttpModule unless `http` is given. */
  modules: Array<Type | DynamicModule>;
  /** Replaces the worker HTTP module (the gateway brings its own controllers). */
  http?: Type | DynamicModule;
  port: number;
  host: string;
  signal: AbortSignal;
  bus?: EventBus;
  /** Runs after the HTTP server listens and before the service waits for the signal. */
  afterListen?: () => Promise<void>;
  beforeClose?: () => Promise<void>;
}

/**
 * The Nest side of a service's logs (nestjs-pino): the framework's own lines go through the process's pino
 * logger, as JSON like every other line, and a line logged while a request is handled carries its request
 * id. Requests themselves are not logged, and Nest's start-up chatter stays out: the framework logs
 * warnings and errors only, as before (or less, when RECON_LOG_LEVEL asks for less).
 */
function nestLogging(): DynamicModule {
  const root = rootLogger();
  return LoggerModule.forRoot({
    pinoHttp: {
      logger: root.child({ component: 'nest' }, { level: atLeast(root.level, 'warn') }),
      autoLogging: false,
      quietReqLogger: true,
    },
  });
}

/** The root of a service application: its own module beside the logging. */
@Module({})
class ServiceApplication {}

/**
 * A service's HTTP application. No route of a service takes a request body, so none is parsed: a request is
 * authenticated before anything reads its body, and a body without a valid token costs the server nothing.
 * Nest logs through pino (see nestLogging) unless `logger: false` silences it.
 */
export async function createServiceApp(
  module: Type | DynamicModule,
  options: { logger?: false } = {},
): Promise<INestApplication> {
  if (options.logger === false) return NestFactory.create(module, { logger: false, bodyParser: false });
  const app = await NestFactory.create(
    { module: ServiceApplication, imports: [module, nestLogging()] },
    { bodyParser: false, bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  return app;
}

/**
 * Runs one service as its own process until the signal aborts: its modules on the platform and bus, with
 * /health/live, /health/ready and /metrics on the given port. This is what `recon service <name>` and a
 * plug-in reward's own deployable both run.
 */
export async function hostService(options: HostServiceOptions): Promise<void> {
  process.env.RECON_SERVICE_NAME = options.name;
  const bus = options.bus ?? eventBusFor(options.name, options.platform);
  @Module({
    imports: [
      PlatformModule.forRoot(options.platform, bus),
      options.http ?? WorkerHttpModule.forRoot(),
      ...options.modules,
    ],
  })
  class ServiceModule {}
  const app = await createServiceApp(ServiceModule);
  try {
    await app.listen(options.port, options.host);
    await options.afterListen?.();
    process.stdout.write(`recon ${options.name} listening on ${await app.getUrl()}\n`);
    if (!options.signal.aborted)
      await new Promise<void>((resolve) =>
        options.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    await options.beforeClose?.();
  } finally {
    await app.close();
    await bus.close();
  }
}
