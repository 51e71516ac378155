/**
 * Transport benchmark: events/s and p50/p99 end-to-end latency of the same payloads through
 *   1. the in-process bus      append to the Postgres log -> LISTEN/NOTIFY tail -> handler
 *   2. the Kafka bus           append to the Postgres log -> EventLogRelay -> Kafka -> KafkaEventBus -> handler
 *   3. raw kafkajs             producer.send of the same encoded messages -> consumer eachMessage
 * all in one process and one run, with ratios against (1) and (3). Throughput: every event sent as fast as
 * the sender goes, timed from the first send to the last delivery. Latency: a paced run (a small batch
 * every few ms, below saturation), per event from just before its send/append to its delivery.
 * Run: npm run build && node dist/bench/transport/transport.bench.js [--events N] [--paced N]
 * Uses DATABASE_URL (else 127.0.0.1:5432) and KAFKA_BROKERS (else starts scripts/kafka/kafka.sh's broker).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Partitioners, logLevel, type Kafka, type Message } from 'kafkajs';
import type { Producer as EventProducer } from '@recon/contracts';
import type { NewEvent, RecordedEvent } from '@recon/eventlog';
import { createScratchPlatform, type ScratchPlatform } from '@recon/persistence';
import {
  EventLogRelay,
  HEADER_EVENT_ID,
  InProcessEventBus,
  KafkaEventBus,
  createKafkaClient,
  encodeEvent,
  ensureKafkaTopics,
  headerText,
  type EventBus,
} from '@recon/transport';
import { acquireLocalBroker } from '../../scripts/kafka/local-broker';

const PRODUCER: EventProducer = { service: 'rollout', version: 'bench', instance: 'bench' };
const RUNS = 16;
const BATCH = 25;
const PACED_BATCH = 5;
const PACED_GAP_MS = 10;
const COMPLETION =
  '<think>Player 1 compares payoffs: against Option 1 the best reply is Option 2, and against Option 2 it is ' +
  'Option 2 again, so Option 2 strictly dominates. Player 2 reasons the same way.</think> \\boxed{Option 2: Both defect}';

function arg(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

/** A rollout.generated event (~600 bytes encoded), the most frequent event of a GRPO step. */
function rollout(index: number): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'rollout.generated',
    payload: {
      rolloutId: `r-${index}`,
      step: Math.floor(index / 32),
      promptId: `train-${index % 64}`,
      groupIndex: index % 8,
      policyVersion: 'a'.repeat(64),
      seed: index,
      completion: COMPLETION,
      completionTokens: 96,
      truncated: false,
      finishReason: 'stop',
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

interface Result {
  eventsPerSecond: number;
  p50: number;
  p99: number;
}

/** Tracks send times and deliveries by event id; resolves when every expected id has arrived. */
class Tracker {
  private readonly sentAt = new Map<string, number>();
  private readonly latencies: number[] = [];
  private firstSend = -1;
  private lastDelivery = 0;
  private finished: (() => void) | null = null;

  constructor(private readonly expected: number) {}

  sent(ids: string[]): void {
    const now = performance.now();
    if (this.firstSend < 0) this.firstSend = now;
    for (const id of ids) this.sentAt.set(id, now);
  }

  delivered(id: string): void {
    const at = this.sentAt.get(id);
    if (at === undefined) return;
    this.sentAt.delete(id);
    this.lastDelivery = performance.now();
    this.latencies.push(this.lastDelivery - at);
    if (this.latencies.length === this.expected) this.finished?.();
  }

  done(timeoutMs = 300_000): Promise<void> {
    if (this.latencies.length === this.expected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.latencies.length} of ${this.expected} events arrived`)),
        timeoutMs,
      );
      this.finished = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  result(): Result {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      eventsPerSecond: this.expected / ((this.lastDelivery - this.firstSend) / 1000),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
    };
  }
}

type Send = (batch: NewEvent[], run: string) => Promise<void>;

/** Sends `total` events in batches over RUNS runs: all at once (throughput) or paced (latency). */
async function drive(total: number, paced: boolean, send: Send, tracker: Tracker): Promise<void> {
  const size = paced ? PACED_BATCH : BATCH;
  for (let sent = 0, b = 0; sent < total; sent += size, b += 1) {
    const batch = Array.from({ length: Math.min(size, total - sent) }, (_, i) => rollout(sent + i));
    tracker.sent(batch.map((e) => e.eventId as string));
    await send(batch, `bench-run-${b % RUNS}`);
    if (paced) await new Promise((r) => setTimeout(r, PACED_GAP_MS));
  }
  await tracker.done();
}

async function viaBus(
  platform: ScratchPlatform,
  bus: EventBus,
  total: number,
  paced: boolean,
): Promise<Result> {
  const tracker = new Tracker(total);
  const consumer = await bus.subscribe(
    { group: `bench-${randomBytes(4).toString('hex')}`, startAt: 'latest' },
    async (e) => tracker.delivered(e.eventId),
  );
  await drive(
    total,
    paced,
    async (batch, run) => {
      await platform.eventStore.append(run, batch, { expectedVersion: 'any', producer: PRODUCER });
    },
    tracker,
  );
  await consumer.stop();
  return tracker.result();
}

let rawTopics = 0;

async function viaRawKafka(
  kafka: Kafka,
  prefix: string,
  messagesOf: Map<string, Message>,
  total: number,
  paced: boolean,
): Promise<Result> {
  const tracker = new Tracker(total);
  const topic = `${prefix}-${(rawTopics += 1)}`;
  await ensureKafkaTopics(kafka, { topic, dlqTopic: `${prefix}-dlq` });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const consumer = kafka.consumer({
    groupId: `bench-raw-${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let joined!: () => void;
  const ready = new Promise<void>((r) => (joined = r));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({
    eachMessage: async ({ message }) => tracker.delivered(headerText(message.headers, HEADER_EVENT_ID) ?? ''),
  });
  await ready;
  await drive(
    total,
    paced,
    async (batch, run) => {
      const messages = batch.map((e, i) => {
        // The same bytes the bus carries: a recorded event's message, re-keyed to this run and event id.
        const template = messagesOf.get(String(i % messagesOf.size)) as Message;
        return {
          ...template,
          key: run,
          headers: { ...template.headers, [HEADER_EVENT_ID]: e.eventId as string },
        };
      });
      await producer.send({ topic, acks: -1, messages });
    },
    tracker,
  );
  await consumer.disconnect();
  await producer.disconnect();
  return tracker.result();
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const total = arg('events', 10_000);
  const pacedTotal = arg('paced', 2_000);
  const broker = await acquireLocalBroker();
  // Separate databases, so the relay never carries the in-process bus's events.
  const platform = await createScratchPlatform();
  const kafkaPlatform = await createScratchPlatform();
  const kafka = createKafkaClient({
    clientId: 'recon-bench',
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
  });
  const suffix = randomBytes(4).toString('hex');
  const topic = `recon.events.bench-${suffix}`;
  const rawTopic = `recon.raw.bench-${suffix}`;
  const dlqTopic = `recon.dlq.bench-${suffix}`;
  const consumerConfig = { maxWaitTimeInMs: 100, heartbeatInterval: 1000 };
  const relay = new EventLogRelay(kafkaPlatform.eventStore, kafkaPlatform.pool, kafka, {
    topic,
    dlqTopic,
    pollMs: 200,
  });
  const kafkaBus = new KafkaEventBus(kafka, {
    pool: kafkaPlatform.pool,
    topic,
    dlqTopic,
    consumer: consumerConfig,
  });
  const inProcess = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 200 });
  try {
    await relay.start();
    // Warm-up (JIT, connections, topic leaders), and sample messages for the raw baseline.
    await viaBus(kafkaPlatform, kafkaBus, 500, false);
    await viaBus(platform, inProcess, 500, false);
    const samples = new Map<string, Message>();
    (await platform.eventStore.readAll(0, 64)).forEach((e: RecordedEvent, i) =>
      samples.set(String(i), encodeEvent(e)),
    );
    await viaRawKafka(kafka, rawTopic, samples, 500, false);

    const rows: Array<[string, Result, Result]> = [];
    for (const [name, run] of [
      ['in-process bus', (n: number, paced: boolean) => viaBus(platform, inProcess, n, paced)],
      [
        'Kafka bus (log + relay + Kafka)',
        (n: number, paced: boolean) => viaBus(kafkaPlatform, kafkaBus, n, paced),
      ],
      [
        'raw kafkajs produce+consume',
        (n: number, paced: boolean) => viaRawKafka(kafka, rawTopic, samples, n, paced),
      ],
    ] as const) {
      const throughput = await run(total, false);
      const latency = await run(pacedTotal, true);
      rows.push([name, throughput, latency]);
    }
    const [inProc, bus, raw] = rows;
    const bytes = Buffer.byteLength(String(samples.get('0')?.value));
    console.log(
      `transport bench: ${fmt(total)} rollout.generated events (~${bytes} B) over ${RUNS} runs, batches of ${BATCH};`,
    );
    console.log(`latency: ${fmt(pacedTotal)} events paced ${PACED_BATCH} per ${PACED_GAP_MS} ms\n`);
    console.log('| transport | events/s | p50 ms | p99 ms |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const [name, t, l] of rows)
      console.log(`| ${name} | ${fmt(t.eventsPerSecond)} | ${fmt(l.p50, 1)} | ${fmt(l.p99, 1)} |`);
    console.log('');
    console.log(
      `Kafka bus / in-process bus: throughput x${fmt(bus[1].eventsPerSecond / inProc[1].eventsPerSecond, 2)}, ` +
        `p50 x${fmt(bus[2].p50 / inProc[2].p50, 2)}, p99 x${fmt(bus[2].p99 / inProc[2].p99, 2)}`,
    );
    console.log(
      `Kafka bus / raw kafkajs:    throughput x${fmt(bus[1].eventsPerSecond / raw[1].eventsPerSecond, 2)}, ` +
        `p50 x${fmt(bus[2].p50 / raw[2].p50, 2)}, p99 x${fmt(bus[2].p99 / raw[2].p99, 2)}`,
    );
  } finally {
    await kafkaBus.close();
    await inProcess.close();
    await relay.stop();
    const admin = kafka.admin();
    await admin.connect();
    const raw = Array.from({ length: rawTopics }, (_, i) => `${rawTopic}-${i + 1}`);
    await admin.deleteTopics({ topics: [topic, dlqTopic, `${rawTopic}-dlq`, ...raw] }).catch(() => undefined);
    await admin.disconnect();
    await platform.close();
    await kafkaPlatform.close();
    await broker.release();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
