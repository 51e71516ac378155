import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './prometheus';

const run = promisify(execFile);
const SCRIPT = resolve(__dirname, '../../scripts/kafka/kafka.sh');

/**
 * A Kafka broker of a test's own (scripts/kafka/kafka.sh on free ports, data in .kafka/broker-<port>), which
 * the test may stop and start again: the data directory is kept across a restart, so topics and committed
 * offsets survive it. Never the shared broker on 19092.
 */
export interface OwnBroker {
  brokers: string[];
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

export async function startOwnBroker(): Promise<OwnBroker> {
  const port = await freePort();
  let controller = await freePort();
  while (controller === port) controller = await freePort();
  const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controller) };
  const kafkaSh = async (command: string) => {
    try {
      await run('bash', [SCRIPT, command], { env, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`kafka.sh ${command} (port ${port}) failed: ${failure.stderr ?? failure.message}`);
    }
  };
  await kafkaSh('start');
  return {
    brokers: [`127.0.0.1:${port}`],
    stop: () => kafkaSh('stop'),
    start: () => kafkaSh('start'),
    destroy: async () => {
      await kafkaSh('reset');
      rmSync(resolve(process.env.KAFKA_HOME ?? resolve(__dirname, '../../.kafka'), `broker-${port}.lock`), {
        force: true,
      });
    },
  };
}
