/**
 * What the helper scripts' variables (the local Kafka broker, the container image) mean, for
 * docs/configuration.md. Their names and defaults are read from the scripts (`${NAME:-default}` in
 * scripts/**\/*.sh). The platform's own variables are declared once, with defaults and meanings, in
 * libs/config (`ENVIRONMENT_VARIABLES`).
 */
export const SCRIPT_VARIABLE_MEANINGS: Record<string, string> = {
  KAFKA_PORT: 'client port of the local broker (`npm run kafka -- start|stop|status|reset`)',
  KAFKA_CONTROLLER_PORT: "the broker's KRaft controller port",
  KAFKA_HOME: "where the broker jars (`libs/`) and each port's data and logs (`broker-<port>/`) live",
  KAFKA_HEAP: "the broker's JVM heap",
  KAFKA_START_TIMEOUT: 'seconds `start` waits for the broker to be ready',
  KAFKA_STOP_TIMEOUT: 'seconds `stop` waits before SIGKILL',
  KAFKA_SECURITY:
    '`scram`: the client listener is SASL_PLAINTEXT with SCRAM-SHA-512 and SCRAM-SHA-256, plus a SASL_SSL one on `KAFKA_TLS_PORT` (see [security.md](security.md#kafka-security-saslscram-tls))',
  KAFKA_TLS_PORT: 'the SASL_SSL listener of a `scram` broker',
  KAFKA_SCRAM_USERNAME: 'the SCRAM user created when the storage is formatted',
  KAFKA_SCRAM_PASSWORD:
    "that user's password (random when unset; stored in `<state>/credentials/<user>.password`, mode 0600)",
  RECON_BASE_IMAGE:
    'the base image of the Dockerfile (made by `scripts/image/base.sh` with debootstrap when it is the default)',
  RECON_DEBIAN_MIRROR: 'Debian mirror the base image is made from',
  RECON_DEBIAN_SECURITY_MIRROR: 'Debian security mirror of the base image',
  RECON_BASE_REBUILD: '`1`: make the base image again even when it exists',
  RECON_CODE_VERSION:
    'the code version baked into the image (default: the git commit, `-dirty` when files changed)',
  NODE_EXTRA_CA_CERTS:
    'CA bundle npm trusts during the image build (a build secret, not stored in the image)',
  RECON_IMAGE_ARCHIVE: '`<file.tar>`: also write the image as an OCI archive (to copy to another machine)',
  RECON_PODMAN_RUNTIME:
    'the OCI runtime `scripts/image/run.sh` uses (default runc where cgroup v1 and v2 are mixed)',
};

/** Variables a script reads that are the platform's own (documented above) or the test command's. */
export const SCRIPT_VARIABLES_DOCUMENTED_ELSEWHERE = ['DATABASE_URL', 'KAFKA_BROKERS'];
