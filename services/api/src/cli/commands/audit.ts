import { Command } from 'commander';
import { auditStream } from '@recon/eventlog';
import { writeFileSync } from 'node:fs';
import { buildAuditReport } from '../../audit-report';
import { CliFailure, withPlatform } from '../context';
import { printJsonOr } from '../output';

export function auditCommand(): Command {
  return new Command('audit')
    .description("verify a run's hash chain and report the first broken link")
    .argument('<run>', 'run id')
    .option('--report', 'write a human-readable audit report (markdown) instead')
    .option('--out <file>', 'with --report: write the report to this file instead of stdout')
    .option('--json', 'print JSON')
    .action(async (runId: string, options: { json?: boolean; report?: boolean; out?: string }) => {
      await withPlatform(async (platform) => {
        if (options.report) {
          if ((await platform.eventStore.streamVersion(runId)) === 0)
            throw new CliFailure(`run '${runId}' has no events`);
          const report = await buildAuditReport(platform, runId);
          if (options.out) {
            writeFileSync(options.out, report.markdown);
            process.stdout.write(`wrote ${options.out}\n`);
          } else process.stdout.write(report.markdown);
          if (!report.chain.ok) process.exitCode = 1;
          return;
        }
        const result = await auditStream(platform.pool, runId);
        if (result.eventsChecked === 0 && result.ok) throw new CliFailure(`run '${runId}' has no events`);
        printJsonOr(
          result,
          () => {
            if (result.ok) {
              const withdrawn =
                result.tombstoned > 0 ? `, ${result.tombstoned} withdrawn by recorded deletions` : '';
              return `run ${runId}: hash chain intact (${result.eventsChecked} events${withdrawn}, head ${result.headHash})`;
            }
            const broken = result.firstBroken!;
            return [
              `run ${runId}: hash chain BROKEN`,
              `  first broken link at position ${broken.position} (event ${broken.eventId ?? '-'})`,
              `  check:    ${broken.check}`,
              `  expected: ${broken.expected}`,
              `  found:    ${broken.found}`,
            ].join('\n');
          },
          options,
        );
        if (!result.ok) process.exitCode = 1;
      });
    });
}
