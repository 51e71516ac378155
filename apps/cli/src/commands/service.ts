import type { DynamicModule, Type } from '@nestjs/common';
import { Command } from 'commander';
import { selectBackend, isBackendName } from '@recon/policy';
import { hostService, kafkaBrokersFromEnv, kafkaNamesFromEnv } from '@recon/service-kit';
import { EventLogRelay, createKafkaClient, kafkaSecurityFromEnv } from '@recon/transport';
import { DataModule } from '@recon/data';
import { EvaluationModule } from '@recon/evaluation';
import { RewardModule } from '@recon/reward';
import { RolloutModule } from '@recon/rollout';
import { TrainingModule } from '@recon/training';
import { ApiModule, RunSupervisorModule } from '@recon/api';
import { CliFailure, withPlatform } from '../context';
import { readEnvironment } from '@recon/config';

const WORKERS: Record<string, () => Type | DynamicModule> = {
  data: () => DataModule,
  training: () => TrainingModule,
  rollout: () => RolloutModule,
  reward: () => RewardModule.forRoot(),
  evaluation: () => EvaluationModule,
};
const SERVICES = [...Object.keys(WORKERS), 'api'];

/**
 * `recon service <name>`: one service as its own process (a pod in deploy/), with /health/live,
 * /health/ready and /metrics on PORT (default 3000). With KAFKA_BROKERS it consumes from Kafka and the api
 * service also runs the log-to-Kafka relay (one active relay per topic, by advisory lock); without it, it
 * tails the log in-process like the embedded deployment.
 */
export function serviceCommand(): Command {
  return new Command('service')
    .description(`run one service as its own process: ${SERVICES.join(', ')}`)
    .argument('<name>', 'service name')
    .option(
      '--port <port>',
      'HTTP port (health, metrics; the gateway routes for api)',
      (v) => Number(v),
      Number(readEnvironment('PORT') ?? 3000),
    )
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .action(async (name: string, options: { port: number; host: string }) => {
      if (!SERVICES.includes(name))
        throw new CliFailure(`unknown service '${name}' (one of ${SERVICES.join(', ')})`, 2);
      process.env.RECON_SERVICE_NAME = name;
      await withPlatform(async (platform, signal) => {
        if (['training', 'rollout', 'evaluation'].includes(name)) {
          const preferred = readEnvironment('RECON_BACKEND') ?? 'auto';
          await selectBackend(preferred === 'auto' || !isBackendName(preferred) ? 'auto' : preferred);
        }
        const brokers = kafkaBrokersFromEnv();
        const relay =
          name === 'api' && brokers
            ? new EventLogRelay(
                platform.eventStore,
                platform.pool,
                createKafkaClient({ clientId: 'recon-relay', brokers }),
                {
                  topic: kafkaNamesFromEnv().topic,
                  dlqTopic: kafkaNamesFromEnv().dlqTopic,
                  // Kafka or PostgreSQL away: the relay retries from its stored position, and says so.
                  onError: (error) =>
                    process.stderr.write(
                      `recon relay: ${error.message}; resuming from its stored position in 1 s\n`,
                    ),
                },
              )
            : null;
        // Consumer lag over Kafka is Kafka's own: the api reads the groups' committed offsets at scrape time.
        const kafkaLag =
          name === 'api' && brokers
            ? {
                admin: createKafkaClient({ clientId: 'recon-lag', brokers }, kafkaSecurityFromEnv()).admin(),
                topic: kafkaNamesFromEnv().topic,
                groupPrefix: kafkaNamesFromEnv().groupPrefix,
              }
            : null;
        await hostService({
          name,
          platform,
          signal,
          port: options.port,
          host: options.host,
          ...(name === 'api'
            ? {
                // The api service exports the run metrics (followed from the bus) and the relay's.
                http: ApiModule.forRoot({ metrics: { eventPipeline: true, runMetrics: true, relay, kafkaLag } }),
                modules: [RunSupervisorModule],
              }
            : { modules: [WORKERS[name]()] }),
          afterListen: async () => relay?.start(),
          beforeClose: async () => {
            await relay?.stop();
            await kafkaLag?.admin.disconnect();
          },
        });
      });
    });
}
