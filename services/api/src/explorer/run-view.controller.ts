import { BadRequestException, Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import type { RecordedEvent } from '@recon/eventlog';
import type { Platform } from '@recon/persistence';
import { PLATFORM, RequireRole } from '@recon/service-kit';
import { ACCESS_STREAM } from '@recon/contracts';
import { stepGroups, type StepGroups } from './grpo-groups';
import { buildRunView, type RunView } from './run-view';

/** The explorer's views of one run, each built from the run's events on the server (the page pages nothing). */
@RequireRole('viewer')
@Controller('runs/:runId')
export class RunViewController {
  constructor(@Inject(PLATFORM) private readonly platform: Platform) {}

  private async events(runId: string): Promise<RecordedEvent[]> {
    if (runId.length > 200 || runId.includes('\u0000'))
      throw new BadRequestException(`path 'runId': expected 1-200 characters without NUL`);
    // The access stream is no run (and is for admins only: see RunsController).
    if (runId === ACCESS_STREAM) throw new NotFoundException(`'${runId}' is not a run`);
    const events = await this.platform.eventStore.readStream(runId);
    if (events.length === 0) throw new NotFoundException(`run '${runId}' has no events`);
    return events;
  }

  /** The run page: config, datasets, training curves and the report's tables. */
  @Get('view')
  async view(@Param('runId') runId: string): Promise<RunView> {
    return buildRunView(runId, await this.events(runId));
  }

  /** The GRPO groups of one step: each prompt's completions with rewards and advantages. */
  @Get('steps/:step/groups')
  async groups(@Param('runId') runId: string, @Param('step') step: string): Promise<StepGroups> {
    if (!/^\d{1,9}$/.test(step))
      throw new BadRequestException(`path 'step': expected a step number, got '${step}'`);
    const events = await this.events(runId);
    const groups = stepGroups(events, Number(step));
    if (groups.groups.length === 0)
      throw new NotFoundException(`run '${runId}' has no rollouts at step ${step}`);
    return groups;
  }
}
