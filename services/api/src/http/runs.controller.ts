import {
  BadRequestException,
  Controller,
  Get,
  Inject,
  NotFoundException,
  Param,
  Query,
} from '@nestjs/common';
import { auditStream } from '@recon/eventlog';
import { isKnownEventType } from '@recon/contracts';
import { RunEntity, type Platform } from '@recon/persistence';
import { PLATFORM, RequireRole } from '@recon/service-kit';

/** A stream id is 1-200 characters (the event contracts) and PostgreSQL text cannot hold NUL. */
function checkedRunId(runId: string): string {
  if (runId.length > 200 || runId.includes('\u0000')) {
    throw new BadRequestException(
      `path 'runId': expected 1-200 characters without NUL, got ${runId.length} character(s)${runId.includes('\u0000') ? ' holding NUL' : ''}`,
    );
  }
  return runId;
}

/** Read access to runs: the read models for lists, the log itself for events and audits. */
@RequireRole('viewer')
@Controller('runs')
export class RunsController {
  constructor(@Inject(PLATFORM) private readonly platform: Platform) {}

  /** Training runs and external evaluations (`kind`), oldest first. */
  @Get()
  async list(): Promise<RunEntity[]> {
    await this.platform.projections.catchUp();
    return this.platform.dataSource
      .getRepository(RunEntity)
      .find({ order: { requestedAt: 'ASC', runId: 'ASC' } });
  }

  @Get(':runId')
  async get(@Param('runId') runId: string): Promise<RunEntity> {
    await this.platform.projections.catchUp();
    const run = await this.platform.dataSource
      .getRepository(RunEntity)
      .findOneBy({ runId: checkedRunId(runId) });
    if (!run) throw new NotFoundException(`run '${runId}' does not exist`);
    return run;
  }

  @Get(':runId/events')
  async events(
    @Param('runId') runId: string,
    @Query('type') type?: string | string[],
    @Query('from') from?: string,
  ) {
    checkedRunId(runId);
    const types = type === undefined ? undefined : Array.isArray(type) ? type : [type];
    for (const t of types ?? []) {
      if (!isKnownEventType(t))
        throw new BadRequestException(`query 'type': '${t}' is not a known event type`);
    }
    const fromPosition = from === undefined ? 1 : Number(from);
    if (!Number.isInteger(fromPosition) || fromPosition < 1) {
      throw new BadRequestException(`query 'from': expected a positive integer, got '${from}'`);
    }
    if ((await this.platform.eventStore.streamVersion(runId)) === 0) {
      throw new NotFoundException(`run '${runId}' has no events`);
    }
    return this.platform.eventStore.readStream(runId, { fromPosition, types });
  }

  @Get(':runId/audit')
  async audit(@Param('runId') runId: string) {
    const result = await auditStream(this.platform.pool, checkedRunId(runId));
    if (result.eventsChecked === 0 && result.ok) throw new NotFoundException(`run '${runId}' has no events`);
    return result;
  }
}
