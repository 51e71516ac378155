import { join, resolve } from 'node:path';
import { buildKustomization, type Manifest } from './manifests';

const ROOT = resolve(__dirname, '../..');

/**
 * PostgreSQL connections one recon process opens at most (libs/persistence: the event store's pool,
 * platform.ts `max: 8`, and the read models' DataSource, data-source.ts `max: 4`); the api's projection
 * processor holds one more of its own.
 */
const CONNECTIONS_PER_PROCESS = 12;
const API_EXTRA_CONNECTIONS = 1;
/** PostgreSQL's superuser_reserved_connections (default), which the Cluster does not change. */
const SUPERUSER_RESERVED = 3;
/** Left for CloudNativePG's instance manager and exporter, the pooler's auth_query sessions and a psql. */
const OPERATIONS_HEADROOM = 10;
/**
 * The pgbouncer parameters CloudNativePG's admission webhook accepts (AllowedPgbouncerGenericConfigurationParameters
 * in internal/webhook/v1/pooler_webhook.go); it rejects a Pooler setting any other.
 */
const CNPG_PGBOUNCER_PARAMETERS = new Set(
  (
    'application_name_add_host auth_type autodb_idle_timeout cancel_wait_timeout client_idle_timeout ' +
    'client_login_timeout client_tls_sslmode default_pool_size disable_pqexec dns_max_ttl dns_nxdomain_ttl ' +
    'idle_transaction_timeout ignore_startup_parameters listen_backlog log_connections log_disconnections ' +
    'log_pooler_errors log_stats max_client_conn max_db_connections max_packet_size max_prepared_statements ' +
    'max_user_connections min_pool_size pkt_buf query_timeout query_wait_timeout reserve_pool_size ' +
    'reserve_pool_timeout sbuf_loopcnt server_check_delay server_check_query server_connect_timeout ' +
    'server_fast_close server_idle_timeout server_lifetime server_login_retry server_reset_query ' +
    'server_reset_query_always server_round_robin server_tls_ciphers server_tls_protocols server_tls_sslmode ' +
    'stats_period suspend_timeout tcp_defer_accept tcp_socket_buffer tcp_keepalive tcp_keepcnt tcp_keepidle ' +
    'tcp_keepintvl tcp_user_timeout track_extra_parameters verbose'
  ).split(' '),
);

type Any = Manifest & { spec?: any; data?: Record<string, string> }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What a lab needs of deploy/overlays/lab beyond schema validity (docs/operations.md). */
describe('the lab overlay', () => {
  let objects: Any[];
  beforeAll(() => {
    objects = buildKustomization(join(ROOT, 'deploy/overlays/lab')) as Any[];
  }, 60_000);
  const ofKind = (kind: string) => objects.filter((m) => m.kind === kind);
  const labels = (m: Any) => (m.metadata as { labels?: Record<string, string> }).labels ?? {};
  const matches = (selector: Record<string, string>, m: Any) =>
    Object.entries(selector).every(([k, v]) => labels(m)[k] === v);

  it('has Prometheus select every ServiceMonitor and PrometheusRule, the reward plug-in included', () => {
    const [prometheus] = ofKind('Prometheus');
    const monitors = ofKind('ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name)).toContain('recon-reward-concise');
    for (const monitor of monitors)
      expect([
        monitor.metadata.name,
        matches(prometheus.spec.serviceMonitorSelector.matchLabels, monitor),
      ]).toEqual([monitor.metadata.name, true]);
    const rules = ofKind('PrometheusRule');
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect(matches(prometheus.spec.ruleSelector.matchLabels, rule)).toBe(true);
  });

  it('runs the reward plug-in from the same image tag as the services', () => {
    const image = (name: string) =>
      ofKind('Deployment').find((d) => d.metadata.name === name)!.spec.template.spec.containers[0]
        .image as string;
    expect(image('recon-reward-concise')).toBe(image('recon-api'));
    expect(image('recon-api')).toMatch(/:[^:]+$/);
  });

  it('archives the database (WAL and nightly base backups) to an object store', () => {
    const cluster = ofKind('Cluster').find((c) => c.metadata.name === 'recon-db')!;
    expect(cluster.spec.backup.barmanObjectStore.destinationPath).toMatch(/^s3:\/\//);
    expect(cluster.spec.backup.barmanObjectStore.s3Credentials.accessKeyId.name).toBe('recon-backup-s3');
    const [scheduled] = ofKind('ScheduledBackup');
    expect([scheduled.spec.cluster.name, scheduled.spec.method]).toEqual(['recon-db', 'barmanObjectStore']);
  });

  it('keeps Prometheus data on a volume', () => {
    const [prometheus] = ofKind('Prometheus');
    expect(prometheus.spec.storage.volumeClaimTemplate.spec.resources.requests.storage).toMatch(/Gi$/);
  });

  it('has a PodDisruptionBudget and node anti-affinity for every replicated service', () => {
    const replicated = ofKind('Deployment').filter(
      (d) =>
        (d.spec.replicas ?? 1) > 1 ||
        ofKind('HorizontalPodAutoscaler').some(
          (h) => h.spec.scaleTargetRef.name === d.metadata.name && h.spec.minReplicas > 1,
        ),
    );
    expect(replicated.map((d) => d.metadata.name)).toEqual(
      expect.arrayContaining(['recon-api', 'recon-rollout', 'recon-reward']),
    );
    for (const deployment of replicated) {
      const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
      const budget = ofKind('PodDisruptionBudget').find((b) =>
        Object.entries(b.spec.selector.matchLabels as Record<string, string>).every(
          ([k, v]) => podLabels[k] === v,
        ),
      );
      expect([deployment.metadata.name, budget?.spec.minAvailable]).toEqual([deployment.metadata.name, 1]);
      const term =
        deployment.spec.template.spec.affinity?.podAntiAffinity
          ?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm;
      expect([deployment.metadata.name, term?.labelSelector?.matchLabels]).toEqual([
        deployment.metadata.name,
        { 'app.kubernetes.io/name': deployment.metadata.name },
      ]);
    }
  });

  it("takes Grafana's admin password from its Secret only, and leaves topic creation to the Topic Operator", () => {
    const grafana = ofKind('Deployment').find((d) => d.metadata.name === 'recon-grafana')!;
    const password = (
      grafana.spec.template.spec.containers[0].env as Array<{
        name: string;
        valueFrom?: { secretKeyRef?: unknown };
      }>
    ).find((e) => e.name === 'GF_SECURITY_ADMIN_PASSWORD');
    expect(password?.valueFrom?.secretKeyRef).toEqual({
      name: 'recon-grafana-admin',
      key: 'password',
      optional: false,
    });
    const config = ofKind('ConfigMap').find((c) => c.metadata.name === 'recon-config')!;
    expect(config.data?.RECON_KAFKA_CREATE_TOPICS).toBe('false');
    expect(ofKind('KafkaTopic').length).toBeGreaterThanOrEqual(2);
  });

  describe('database connections', () => {
    const pooler = () => {
      const poolers = ofKind('Pooler');
      expect(poolers).toHaveLength(1);
      return poolers[0];
    };
    const services = () =>
      ofKind('Deployment').filter((d) => labels(d)['app.kubernetes.io/component'] !== 'grafana');
    type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
    const envOf = (workload: Any) => workload.spec.template.spec.containers[0].env as Env[];

    it('has a session-mode Pooler in front of the primary (the advisory locks and LISTEN are per session)', () => {
      const { spec } = pooler();
      const [cluster] = ofKind('Cluster');
      expect([spec.cluster.name, spec.type, spec.pgbouncer.poolMode]).toEqual([
        cluster.metadata.name,
        'rw',
        'session',
      ]);
      // A departed client's locks and LISTENs are released before its server connection serves another.
      expect(spec.pgbouncer.parameters.server_reset_query).toBe('DISCARD ALL');
      expect(Object.keys(spec.pgbouncer.parameters).filter((p) => !CNPG_PGBOUNCER_PARAMETERS.has(p))).toEqual(
        [],
      );
    });

    it("points every service's DATABASE_URL at the pooler's Service, and the migration Job at the cluster", () => {
      const name = pooler().metadata.name; // CloudNativePG names the Pooler's Service after it
      expect(services().length).toBeGreaterThanOrEqual(7);
      for (const deployment of services()) {
        const env = envOf(deployment);
        const url = env.find((e) => e.name === 'DATABASE_URL');
        const composed = /^\$\(([A-Z_]+)\)\?host=(.+)$/.exec(url?.value ?? '');
        expect([deployment.metadata.name, composed?.[2]]).toEqual([deployment.metadata.name, name]);
        // Kubernetes expands $(VAR) only from variables defined before it.
        const base = env.slice(0, env.indexOf(url!)).find((e) => e.name === composed![1]);
        expect(base?.valueFrom?.secretKeyRef).toEqual({ name: 'recon-db-app', key: 'uri' });
      }
      const [migrate] = ofKind('Job').filter((j) => j.metadata.name === 'recon-migrate');
      expect(envOf(migrate).find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
        name: 'recon-db-app',
        key: 'uri',
      });
    });

    it('sizes the pooler against max_connections and the most pods the overlay can run', () => {
      const { spec } = pooler();
      const parameters = spec.pgbouncer.parameters as Record<string, string>;
      const [cluster] = ofKind('Cluster');
      const maxConnections = Number(cluster.spec.postgresql.parameters.max_connections);
      const maxReplicas = (deployment: Any) =>
        ofKind('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === deployment.metadata.name)
          ?.spec.maxReplicas ??
        (deployment.spec.replicas as number | undefined) ??
        1;
      const clients = services().reduce(
        (sum, d) =>
          sum +
          maxReplicas(d) *
            (CONNECTIONS_PER_PROCESS + (d.metadata.name === 'recon-api' ? API_EXTRA_CONNECTIONS : 0)),
        0,
      );
      const pods = services().reduce((sum, d) => sum + maxReplicas(d), 0);
      expect(pods).toBe(32);
      // Either instance takes every client while the other one restarts.
      expect(Number(parameters.max_client_conn)).toBeGreaterThanOrEqual(clients);
      // One user and one database: one pool per instance, bounded by max_db_connections.
      const perInstance = Number(parameters.max_db_connections);
      expect(Number(parameters.default_pool_size)).toBeLessThanOrEqual(perInstance);
      const servers = spec.instances * perInstance;
      expect(
        servers + CONNECTIONS_PER_PROCESS + SUPERUSER_RESERVED + OPERATIONS_HEADROOM,
      ).toBeLessThanOrEqual(maxConnections);
      // ...and not far below it: the pooler is what the services get.
      expect(servers).toBeGreaterThan(maxConnections / 2);
    });
  });
});
