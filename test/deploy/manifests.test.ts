import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PATH_METADATA } from '@nestjs/common/constants';
import { DEAD_LETTER_TOPIC, EVENTS_TOPIC, LOG_CHECKPOINTS_TOPIC, SERVICES } from '@recon/contracts';
import { HealthController } from '@recon/service-kit';
import { kafkaBrokersFromEnv } from '@recon/transport';
import { checkFieldsAgainstTypes, modelModule, validateBuiltin } from './builtin-schemas';
import { CrdSchemas } from './crd-schemas';
import { buildKustomization, describeManifest, type Manifest } from './manifests';

const ROOT = resolve(__dirname, '../..');
const OVERLAYS = ['local', 'lab'] as const;
/** Secrets the manifests use but do not contain, and who makes each. */
const EXTERNAL_SECRETS: Record<string, string> = {
  'recon-db-app': 'CloudNativePG, for the owner of the recon-db Cluster',
  'recon-metrics-token': 'the operator, from `recon token create --role viewer` (deploy/README.md)',
  'recon-grafana-admin': 'the operator, optional (deploy/README.md)',
  'recon-kafka-cluster-ca-cert': "Strimzi, the CA of the recon-kafka cluster's broker certificates",
};
/** Secrets Strimzi's User Operator writes, one per KafkaUser of the overlay (named after it). */
const kafkaUserSecrets = (overlay: string) =>
  new Set(ofKind(overlay, 'KafkaUser').map((u) => u.metadata.name));

interface Container {
  name: string;
  command?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
}
interface PodSpec {
  containers: Container[];
  volumes?: Array<{
    name: string;
    configMap?: { name: string };
    persistentVolumeClaim?: { claimName: string };
    secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
  }>;
}
type Workload = Manifest & { spec: { replicas?: number; template: { spec: PodSpec } } };

const built = new Map<string, Manifest[]>();
let crds: CrdSchemas;

function objects(overlay: string): Manifest[] {
  const found = built.get(overlay);
  if (!found) throw new Error(`overlay ${overlay} was not built`);
  return found;
}

function find<T extends Manifest = Manifest>(overlay: string, kind: string, name: string): T {
  const found = objects(overlay).find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`${overlay}: no ${kind} ${name}`);
  return found as T;
}

function ofKind<T extends Manifest = Manifest>(overlay: string, kind: string): T[] {
  return objects(overlay).filter((m) => m.kind === kind) as T[];
}

function validate(m: Manifest): string[] {
  if (crds.has(m)) return crds.validate(m);
  if (modelModule(m)) return validateBuiltin(m);
  return [`${describeManifest(m)}: no schema to validate it against`];
}

beforeAll(() => {
  // Idempotent; the first run fetches Strimzi's jars with mvn and generates its CRDs (about 15 s).
  execFileSync('bash', [join(ROOT, 'scripts/deploy/fetch-schemas.sh')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  crds = new CrdSchemas([join(__dirname, 'crds'), join(__dirname, '.schemas')]);
  for (const overlay of OVERLAYS)
    built.set(overlay, buildKustomization(join(ROOT, 'deploy/overlays', overlay)));
}, 120_000);

describe('schemas', () => {
  it('has the CRD schemas of Strimzi and CloudNativePG', () => {
    expect(crds.kinds()).toEqual(
      expect.arrayContaining([
        'kafka.strimzi.io/v1 Kafka',
        'kafka.strimzi.io/v1 KafkaNodePool',
        'kafka.strimzi.io/v1 KafkaTopic',
        'kafka.strimzi.io/v1 KafkaUser',
        'postgresql.cnpg.io/v1 Cluster',
        'postgresql.cnpg.io/v1 Pooler',
      ]),
    );
  });

  it('rejects unknown fields, wrong types and missing required fields (the checks can fail)', () => {
    const deployment = structuredClone(find<Workload>('local', 'Deployment', 'recon-rollout'));
    (deployment.spec.template.spec.containers[0].ports as unknown[])[0] = { containerPort: '3000' };
    const misspelt = structuredClone(find<Workload>('local', 'Deployment', 'recon-reward'));
    (misspelt.spec as Record<string, unknown>).replica = 2;
    const topic = structuredClone(find('local', 'KafkaTopic', 'recon-events'));
    (topic.spec as Record<string, unknown>).partition = 3;
    const pool = structuredClone(find('local', 'KafkaNodePool', 'dual-role'));
    delete (pool.spec as Record<string, unknown>).roles;
    const cluster = structuredClone(find('local', 'Cluster', 'recon-db'));
    (cluster.spec as Record<string, unknown>).instances = 'three';
    const monitor = structuredClone(find('local', 'ServiceMonitor', 'recon-api'));
    (monitor.spec as { endpoints: Array<Record<string, unknown>> }).endpoints[0].honourLabels = true;
    const pooler = structuredClone(find('lab', 'Pooler', 'recon-db-pooler-rw'));
    (pooler.spec as { pgbouncer: Record<string, unknown> }).pgbouncer.poolMode = 'statement';

    expect(validateBuiltin(deployment)).toEqual([expect.stringMatching(/containerPort must be integer/)]);
    const typeErrors = checkFieldsAgainstTypes([misspelt, monitor]);
    expect(typeErrors).toEqual([
      expect.stringMatching(
        /Deployment recon-reward: "replica": 2 Object literal may only specify known properties/,
      ),
      expect.stringMatching(
        /ServiceMonitor recon-api: "honourLabels": true Object literal may only specify known/,
      ),
    ]);
    expect(crds.validate(topic)).toEqual([
      expect.stringMatching(/KafkaTopic recon-events: \/spec: unknown field 'partition'/),
    ]);
    expect(crds.validate(pool)).toEqual([
      expect.stringMatching(/KafkaNodePool dual-role: \/spec: must have required property 'roles'/),
    ]);
    expect(crds.validate(cluster).join('\n')).toMatch(/Cluster recon-db: \/spec\/instances: must be integer/);
    expect(crds.validate(pooler).join('\n')).toMatch(
      /Pooler recon-db-pooler-rw: \/spec\/pgbouncer\/poolMode: must be equal to one of the allowed values/,
    );
  });
});

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  it('validates every object against its Kubernetes or CRD schema', () => {
    expect(objects(overlay).flatMap(validate)).toEqual([]);
  });

  it('runs each service from the one image with probes, port 3000 and metrics', () => {
    const base = Reflect.getMetadata(PATH_METADATA, HealthController) as string;
    const route = (method: 'live' | 'ready') =>
      `/${base}/${Reflect.getMetadata(PATH_METADATA, HealthController.prototype[method]) as string}`;
    for (const service of SERVICES) {
      const deployment = find<Workload>(overlay, 'Deployment', `recon-${service}`);
      const [container] = deployment.spec.template.spec.containers;
      expect(container.command).toEqual(['node', 'bin/recon', 'service', service]);
      expect(container.ports).toEqual([{ name: 'http', containerPort: 3000 }]);
      expect(container.livenessProbe?.httpGet).toEqual({ path: route('live'), port: 'http' });
      expect(container.readinessProbe?.httpGet).toEqual({ path: route('ready'), port: 'http' });
      const monitor = find(overlay, 'ServiceMonitor', `recon-${service}`);
      expect(monitor.spec).toMatchObject({ endpoints: [{ port: 'http', path: '/metrics' }] });
      expect(find(overlay, 'Service', `recon-${service}`).spec).toMatchObject({ ports: [{ port: 3000 }] });
    }
    const migrate = find<Workload>(overlay, 'Job', 'recon-migrate');
    expect(migrate.spec.template.spec.containers[0].command).toEqual(['node', 'bin/recon', 'migrate']);
  });

  it('has the Prometheus scrape every service, the api service (run, pipeline and relay metrics) included', () => {
    type Selected = Manifest & { spec: { selector: { matchLabels: Record<string, string> } } };
    type Monitor = Selected & {
      spec: {
        namespaceSelector?: unknown;
        endpoints: Array<{
          port: string;
          path: string;
          honorLabels?: boolean;
          authorization?: { type?: string; credentials?: { name: string; key: string } };
        }>;
      };
    };
    const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
      Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
    const [prometheus] = ofKind<
      Manifest & { spec: { serviceMonitorSelector: { matchLabels: Record<string, string> } } }
    >(overlay, 'Prometheus');
    expect(SERVICES).toContain('api');
    for (const name of SERVICES) {
      const monitor = find<Monitor>(overlay, 'ServiceMonitor', `recon-${name}`);
      const service = find<
        Manifest & { spec: { selector: Record<string, string>; ports: Array<{ name?: string }> } }
      >(overlay, 'Service', `recon-${name}`);
      const deployment = find<
        Workload & { spec: { template: { metadata: { labels: Record<string, string> } } } }
      >(overlay, 'Deployment', `recon-${name}`);
      const chain = [
        // Prometheus picks the ServiceMonitor (same namespace: neither names another one)...
        selects(prometheus.spec.serviceMonitorSelector.matchLabels, monitor.metadata.labels),
        monitor.metadata.namespace === prometheus.metadata.namespace && !monitor.spec.namespaceSelector,
        // ...which picks the Service, which picks the service's pods.
        selects(monitor.spec.selector.matchLabels, service.metadata.labels),
        selects(service.spec.selector, deployment.spec.template.metadata.labels),
      ];
      expect([name, ...chain]).toEqual([name, true, true, true, true]);
      const servicePorts = service.spec.ports.map((p) => p.name);
      for (const endpoint of monitor.spec.endpoints) {
        expect(servicePorts).toContain(endpoint.port);
        expect(endpoint).toMatchObject({
          path: '/metrics',
          // The services label their series service=<name>; the dashboards select by it.
          honorLabels: true,
          authorization: { type: 'Bearer', credentials: { name: 'recon-metrics-token', key: 'token' } },
        });
      }
    }
  });

  it('takes database credentials from the Secret CloudNativePG writes, never from a literal', () => {
    const [cluster] = ofKind(overlay, 'Cluster');
    const containers = [...ofKind<Workload>(overlay, 'Deployment'), ...ofKind<Workload>(overlay, 'Job')]
      .filter((w) => w.metadata.labels?.['app.kubernetes.io/component'] !== 'grafana')
      .flatMap((w) => w.spec.template.spec.containers);
    const fromSecret = { name: `${cluster.metadata.name}-app`, key: 'uri' };
    for (const container of containers) {
      const env = container.env ?? [];
      const url = env.find((e) => e.name === 'DATABASE_URL');
      // The Secret's URL itself, or (through the lab's pooler) that URL, from an earlier variable, with a host.
      const composed = /^\$\(([A-Z_]+)\)\?host=[a-z0-9-]+$/.exec(url?.value ?? '');
      const source = composed ? env.slice(0, env.indexOf(url!)).find((e) => e.name === composed[1]) : url;
      expect([container.name, source?.valueFrom?.secretKeyRef]).toEqual([container.name, fromSecret]);
    }
    const literal = objects(overlay).flatMap(
      (m) => JSON.stringify(m).match(/"name":"[A-Z_]*(PASSWORD|SECRET|TOKEN)[A-Z_]*","value"/g) ?? [],
    );
    expect(literal).toEqual([]);
    expect(ofKind(overlay, 'Secret')).toEqual([]);
  });

  it('refers only to ConfigMaps, claims and Secrets that exist or that a named party creates', () => {
    const names = (kind: string) => new Set(ofKind(overlay, kind).map((m) => m.metadata.name));
    const configMaps = names('ConfigMap');
    const claims = names('PersistentVolumeClaim');
    const missing: string[] = [];
    const secretExists = (name: string) => name in EXTERNAL_SECRETS || kafkaUserSecrets(overlay).has(name);
    for (const workload of [
      ...ofKind<Workload>(overlay, 'Deployment'),
      ...ofKind<Workload>(overlay, 'Job'),
    ]) {
      const pod = workload.spec.template.spec;
      for (const volume of pod.volumes ?? []) {
        if (volume.configMap && !configMaps.has(volume.configMap.name))
          missing.push(`ConfigMap ${volume.configMap.name}`);
        const claim = volume.persistentVolumeClaim?.claimName;
        if (claim && !claims.has(claim)) missing.push(`PersistentVolumeClaim ${claim}`);
        if (volume.secret && !secretExists(volume.secret.secretName))
          missing.push(`Secret ${volume.secret.secretName}`);
      }
      for (const container of pod.containers) {
        for (const source of container.envFrom ?? [])
          if (source.configMapRef && !configMaps.has(source.configMapRef.name))
            missing.push(`ConfigMap ${source.configMapRef.name}`);
        for (const e of container.env ?? []) {
          const secret = e.valueFrom?.secretKeyRef?.name;
          if (secret && !secretExists(secret)) missing.push(`Secret ${secret}`);
        }
      }
    }
    for (const monitor of ofKind(overlay, 'ServiceMonitor')) {
      const endpoints = (
        monitor.spec as { endpoints: Array<{ authorization?: { credentials?: { name: string } } }> }
      ).endpoints;
      for (const endpoint of endpoints) {
        const secret = endpoint.authorization?.credentials?.name;
        if (secret && !(secret in EXTERNAL_SECRETS)) missing.push(`Secret ${secret}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('declares the topics of libs/contracts, replicated within the Kafka node pool', () => {
    const topics = ofKind<Manifest & { spec: { topicName: string; partitions: number; replicas: number } }>(
      overlay,
      'KafkaTopic',
    );
    expect(topics.map((t) => t.spec.topicName).sort()).toEqual(
      [DEAD_LETTER_TOPIC, EVENTS_TOPIC, LOG_CHECKPOINTS_TOPIC].sort(),
    );
    const [kafka] = ofKind(overlay, 'Kafka');
    const pools = ofKind<Manifest & { spec: { replicas: number; roles: string[] } }>(
      overlay,
      'KafkaNodePool',
    );
    const brokers = pools
      .filter(
        (p) =>
          p.metadata.labels?.['strimzi.io/cluster'] === kafka.metadata.name &&
          p.spec.roles.includes('broker'),
      )
      .reduce((sum, p) => sum + p.spec.replicas, 0);
    const expected = overlay === 'local' ? 1 : 3;
    expect(brokers).toBe(expected);
    const config = (kafka.spec as { kafka: { config: Record<string, number> } }).kafka.config;
    for (const topic of topics) {
      expect(topic.metadata.labels?.['strimzi.io/cluster']).toBe(kafka.metadata.name);
      expect(topic.spec.replicas).toBe(expected);
    }
    expect(config['default.replication.factor']).toBe(expected);
    expect(config['offsets.topic.replication.factor']).toBe(expected);
    expect(config['min.insync.replicas']).toBeLessThan(Math.max(expected, 2));
  });

  it("connects the services to the Kafka listener as it is secured (SCRAM and TLS from Strimzi's Secrets in lab)", () => {
    type Listener = { name: string; port: number; tls: boolean; authentication?: { type: string } };
    const [kafka] = ofKind<
      Manifest & { spec: { kafka: { listeners: Listener[]; authorization?: { type: string } } } }
    >(overlay, 'Kafka');
    const env = find<Manifest & { data: Record<string, string> }>(overlay, 'ConfigMap', 'recon-config').data;
    // The variables parse as the services parse them (files are read only at start-up).
    const brokers = kafkaBrokersFromEnv(env) ?? [];
    expect(brokers).toEqual([`${kafka.metadata.name}-kafka-bootstrap:${brokers[0]?.split(':')[1]}`]);
    const listener = kafka.spec.kafka.listeners.find((l) => `${l.port}` === brokers[0].split(':')[1]);
    expect(listener).toBeDefined();
    // Every listener is secured the same way (no plaintext way around the authentication).
    for (const other of kafka.spec.kafka.listeners) expect(other).toMatchObject({ tls: listener!.tls });
    const services = ofKind<Workload>(overlay, 'Deployment').filter(
      (d) => d.metadata.labels?.['app.kubernetes.io/component'] !== 'grafana',
    );
    /** The Secret (and key) mounted where the service reads the given file. */
    const mounted = (workload: Workload, file: string) => {
      const pod = workload.spec.template.spec;
      const mount = pod.containers[0].volumeMounts?.find((m) => m.mountPath === dirname(file));
      const volume = pod.volumes?.find((v) => v.name === mount?.name);
      return { readOnly: mount?.readOnly, secret: volume?.secret?.secretName, items: volume?.secret?.items };
    };
    if (overlay === 'local') {
      expect(listener).toMatchObject({ tls: false });
      expect(listener?.authentication).toBeUndefined();
      expect(Object.keys(env).filter((k) => /^KAFKA_(SASL|TLS)/.test(k))).toEqual([]);
      return;
    }
    expect(listener).toMatchObject({ tls: true, authentication: { type: 'scram-sha-512' } });
    expect(kafka.spec.kafka.authorization).toEqual({ type: 'simple' });
    expect((kafka.spec as { entityOperator?: Record<string, unknown> }).entityOperator).toHaveProperty(
      'userOperator',
    );
    expect(env).toMatchObject({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_TLS: 'true' });
    expect(env.KAFKA_SASL_PASSWORD).toBeUndefined();
    type User = Manifest & {
      spec: {
        authentication: { type: string };
        authorization: { acls: Array<{ resource: { type: string; name?: string } }> };
      };
    };
    const user = find<User>(overlay, 'KafkaUser', env.KAFKA_SASL_USERNAME);
    expect(user.metadata.labels?.['strimzi.io/cluster']).toBe(kafka.metadata.name);
    expect(user.spec.authentication).toEqual({ type: 'scram-sha-512' });
    const topics = user.spec.authorization.acls
      .filter((a) => a.resource.type === 'topic')
      .map((a) => a.resource.name);
    expect(topics.sort()).toEqual([DEAD_LETTER_TOPIC, EVENTS_TOPIC, LOG_CHECKPOINTS_TOPIC].sort());
    expect(services.length).toBeGreaterThanOrEqual(SERVICES.length);
    for (const service of services) {
      expect(mounted(service, env.KAFKA_SASL_PASSWORD_FILE)).toEqual({
        readOnly: true,
        secret: user.metadata.name,
        items: [{ key: 'password', path: 'password' }],
      });
      expect(mounted(service, env.KAFKA_TLS_CA_FILE)).toEqual({
        readOnly: true,
        secret: `${kafka.metadata.name}-cluster-ca-cert`,
        items: [{ key: 'ca.crt', path: 'ca.crt' }],
      });
    }
  });

  it('autoscales only the rollout and reward workers, up to the events topic partitions', () => {
    const events = find<Manifest & { spec: { partitions: number } }>(overlay, 'KafkaTopic', 'recon-events');
    const hpas = ofKind<
      Manifest & {
        spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number };
      }
    >(overlay, 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => `${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}`).sort()).toEqual([
      'Deployment/recon-reward',
      'Deployment/recon-rollout',
    ]);
    for (const hpa of hpas) {
      expect(hpa.spec.maxReplicas).toBeLessThanOrEqual(events.spec.partitions);
      expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
      // A replica count in the Deployment would be reset by every apply, fighting the autoscaler.
      expect(
        find<Workload>(overlay, 'Deployment', hpa.spec.scaleTargetRef.name).spec.replicas,
      ).toBeUndefined();
    }
  });

  it('provisions Grafana with every dashboard of grafana/dashboards, byte for byte', () => {
    const dashboards = ofKind<Manifest & { data: Record<string, string> }>(overlay, 'ConfigMap').find((c) =>
      c.metadata.name.startsWith('recon-grafana-dashboards-'),
    );
    const dir = join(ROOT, 'grafana/dashboards');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(Object.keys(dashboards?.data ?? {}).sort()).toEqual(files);
    for (const file of files) expect(dashboards?.data[file]).toBe(readFileSync(join(dir, file), 'utf8'));
  });
});

it('writes no field that the Kubernetes or prometheus-operator API does not define', () => {
  const typed = OVERLAYS.flatMap((overlay) => objects(overlay)).filter((m) => !crds.has(m));
  expect(checkFieldsAgainstTypes(typed)).toEqual([]);
}, 60_000);
