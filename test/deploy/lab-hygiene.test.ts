import { join, resolve } from 'node:path';
import { buildKustomization, type Manifest } from './manifests';

const ROOT = resolve(__dirname, '../..');

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
});
