import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { auditStream } from '@recon/eventlog';
import { syntheticRunBlobs, syntheticRunEvents } from '../demo/synthetic-run';
import { signCheckpointAfterRun } from '@recon/audit';
import { cliProducer, withPlatform } from '../context';
import { printJsonOr } from '../output';

/** Records a small synthetic run (no model), projects it, audits it and rebuilds its read models. */
export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'record a small SYNTHETIC run (no model is trained), then audit it and rebuild its read models',
    )
    .option('--run-id <id>', 'run id (default: a new one)')
    .option('--sft-steps <n>', 'synthetic SFT steps', (v) => Number.parseInt(v, 10), 20)
    .option('--grpo-steps <n>', 'synthetic GRPO steps', (v) => Number.parseInt(v, 10), 10)
    .option('--json', 'print JSON')
    .action(async (options: { runId?: string; sftSteps: number; grpoSteps: number; json?: boolean }) => {
      const runId = options.runId ?? `synthetic-${randomUUID().slice(0, 8)}`;
      await withPlatform(async (platform) => {
        const events = syntheticRunEvents(runId, {
          sftSteps: options.sftSteps,
          grpoSteps: options.grpoSteps,
        });
        // Its checkpoint blob is stored too, so the blob audit finds what the run names.
        for (const blob of syntheticRunBlobs(runId)) await platform.blobStore.put(blob);
        const recorded = await platform.eventStore.append(runId, events, {
          expectedVersion: 'no-stream',
          producer: cliProducer(),
        });
        await platform.projections.awaitProjected();
        const audit = await auditStream(platform.pool, runId);
        const rebuild = await platform.projections.rebuild(runId);
        await signCheckpointAfterRun(platform);
        printJsonOr(
          {
            runId,
            events: recorded.length,
            audit,
            rebuildIdentical: rebuild.identical,
            embedded: platform.embedded,
          },
          () =>
            [
              `recorded synthetic run ${runId}: ${recorded.length} events (${platform.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'})`,
              `audit:   ${audit.ok ? 'hash chain intact' : `BROKEN at position ${audit.firstBroken?.position}`}`,
              `rebuild: read models ${rebuild.identical ? 'identical' : 'DIFFERENT'} after replay (digest ${rebuild.after.digest.slice(0, 16)}…)`,
              `next:    recon runs | recon events ${runId} | recon audit ${runId}`,
            ].join('\n'),
          options,
        );
        if (!audit.ok || !rebuild.identical) process.exitCode = 1;
      });
    });
}
