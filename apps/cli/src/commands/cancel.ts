import { Command } from 'commander';
import { deterministicEventId } from '@recon/eventlog';
import { CliFailure, cliProducer, withPlatform } from '../context';
import { printJsonOr } from '../output';
import { cliActor } from './token';

/**
 * `recon cancel <run> --reason <text>`: ends a run that is still going, wherever its services run, by
 * recording `run.failed` in phase `cancelled` with who cancelled it and why. Every service checks for a
 * run's end before its next piece of work (a step's rollouts, an evaluation stage), so the run stops there;
 * a process following the run (`recon run`, `recon resume`) reports it as failed.
 */
export function cancelCommand(): Command {
  return new Command('cancel')
    .description('stop a run that is still going: records run.failed (phase cancelled) with who and why')
    .argument('<run>', 'run id')
    .requiredOption('--reason <text>', 'why the run is cancelled (recorded)')
    .option('--json', 'print JSON')
    .action(async (runId: string, options: { reason: string; json?: boolean }) => {
      const reason = options.reason.trim();
      if (reason === '') throw new CliFailure('--reason: give a reason (it is recorded on the run)', 2);
      await withPlatform(async (platform) => {
        const { eventStore } = platform;
        if ((await eventStore.streamVersion(runId)) === 0) throw new CliFailure(`no run ${runId}`);
        const [requested] = await eventStore.readStream(runId, { types: ['run.requested'] });
        if (!requested) throw new CliFailure(`${runId} is not a run (it has no run.requested)`);
        const [ended] = await eventStore.readStream(runId, { types: ['run.completed', 'run.failed'] });
        if (ended)
          throw new CliFailure(
            `run ${runId} has already ${ended.type === 'run.completed' ? 'completed' : 'failed'} (event ${ended.position}): nothing to cancel`,
          );
        const [recorded] = await eventStore.append(
          runId,
          [
            {
              eventId: deterministicEventId(runId, 'run.failed', 'cancelled'),
              type: 'run.failed',
              payload: { phase: 'cancelled', error: `cancelled by ${cliActor()}: ${reason}` },
            },
          ],
          { expectedVersion: 'any', producer: cliProducer() },
        );
        printJsonOr(
          { runId, eventId: recorded.eventId, position: recorded.position, reason },
          () =>
            `cancelled run ${runId} (run.failed at position ${recorded.position}); its services stop before their next step`,
          options,
        );
      });
    });
}
