import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

const ROOT = resolve(__dirname, '../..');

/** promtool (Debian's prometheus package) on the rules of deploy/base/prometheus-rules.yaml. */
describe('the PrometheusRule of deploy/base', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'recon-rules-'));
    const rule = parse(readFileSync(join(ROOT, 'deploy/base/prometheus-rules.yaml'), 'utf8')) as {
      spec: unknown;
    };
    writeFileSync(join(work, 'recon-rules.yaml'), stringify(rule.spec));
    copyFileSync(join(__dirname, 'rules/recon-rules.promtool.yaml'), join(work, 'recon-rules.promtool.yaml'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const promtool = (...args: string[]) =>
    execFileSync('promtool', args, { cwd: work, encoding: 'utf8', stdio: 'pipe' });

  it('passes promtool check rules', () => {
    expect(promtool('check', 'rules', 'recon-rules.yaml')).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('passes promtool test rules: each alert fires on its cause and not otherwise', () => {
    expect(promtool('test', 'rules', 'recon-rules.promtool.yaml')).toMatch(/SUCCESS/);
  });

  it('gives every alert a severity, a summary and a runbook pointing at docs/operations.md', () => {
    const rule = parse(readFileSync(join(ROOT, 'deploy/base/prometheus-rules.yaml'), 'utf8')) as {
      spec: {
        groups: Array<{
          rules: Array<{
            alert?: string;
            labels?: Record<string, string>;
            annotations?: Record<string, string>;
          }>;
        }>;
      };
    };
    const alerts = rule.spec.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    const docs = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8').toLowerCase();
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'ReconAuditFailed',
        'ReconConsumerLagHigh',
        'ReconKafkaDown',
        'ReconPipelineErrors',
        'ReconPostgresDown',
        'ReconProjectionLagHigh',
        'ReconRelayLagHigh',
        'ReconRewardFailures',
        'ReconRunStalled',
      ].sort(),
    );
    for (const alert of alerts) {
      expect([alert.alert, alert.labels?.severity]).toEqual([
        alert.alert,
        expect.stringMatching(/^(warning|critical)$/),
      ]);
      expect(alert.annotations?.summary).toBeTruthy();
      expect(alert.annotations?.runbook).toContain(`docs/operations.md#${alert.alert!.toLowerCase()}`);
      // The page has a section of that name.
      expect(docs).toContain(`### ${alert.alert!.toLowerCase()}`);
    }
  });
});
