import type { Admin, Kafka } from 'kafkajs';
import type { BusReadiness } from '../event-bus';

export interface KafkaReadinessOptions {
  /**
   * The client the probes use (the bus's own by default). Give one made with `retry: { retries: 0 }`:
   * kafkajs retries a failed connection for up to 30 s, so with the default client an unreachable broker
   * is reported as the timeout instead of its connection error.
   */
  client?: Kafka;
  /** Longest a check waits for the brokers before it reports them unreachable. */
  timeoutMs?: number;
  /** How long an answer is reused, so frequent probes (several per pod) cost one cluster request. */
  cacheMs?: number;
}

export const DEFAULT_READINESS_TIMEOUT_MS = 3000;
export const DEFAULT_READINESS_CACHE_MS = 2000;

/**
 * The probe's error for /health/ready. A broker that wants SASL (or TLS) closes a connection that does not
 * authenticate, which kafkajs reports only as "Closed connection": say what that usually means.
 */
function explain(error: unknown): string {
  const message = (error as Error)?.message || String(error);
  if ((error as Error)?.name === 'KafkaJSConnectionClosedError')
    return `${message} by the broker (does its listener require SASL or TLS? see KAFKA_SASL_MECHANISM, KAFKA_TLS)`;
  return message;
}

/**
 * Whether a Kafka cluster answers: a describeCluster on a kept admin connection, failing fast (no retries,
 * a timeout) and cached briefly. After a failure the connection is dropped and the next check reconnects.
 */
export class KafkaReadiness {
  private admin: Promise<Admin> | null = null;
  private last: { at: number; answer: BusReadiness } | null = null;
  private pending: Promise<BusReadiness> | null = null;
  private readonly kafka: Kafka;

  constructor(
    kafka: Kafka,
    private readonly options: KafkaReadinessOptions = {},
  ) {
    this.kafka = options.client ?? kafka;
  }

  check(): Promise<BusReadiness> {
    const cacheMs = this.options.cacheMs ?? DEFAULT_READINESS_CACHE_MS;
    if (this.last && Date.now() - this.last.at < cacheMs) return Promise.resolve(this.last.answer);
    this.pending ??= this.probe()
      .then((answer) => {
        this.last = { at: Date.now(), answer };
        return answer;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }

  async close(): Promise<void> {
    await this.pending?.catch(() => undefined);
    await this.drop();
  }

  private async probe(): Promise<BusReadiness> {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from the brokers within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const admin = (this.admin ??= this.connect());
      await Promise.race([admin.then((a) => a.describeCluster()), timeout]);
      return { dependency: 'kafka', ready: true };
    } catch (error) {
      void this.drop();
      return { dependency: 'kafka', ready: false, error: explain(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  private connect(): Promise<Admin> {
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    return admin.connect().then(
      () => admin,
      async (error: unknown) => {
        await admin.disconnect().catch(() => undefined);
        throw error;
      },
    );
  }

  /** Forgets the admin connection; one still connecting is closed once it has connected. */
  private async drop(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }
}
