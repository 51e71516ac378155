import {
  BadRequestException,
  Controller,
  ForbiddenException,
  Get,
  Inject,
  InternalServerErrorException,
  NotFoundException,
  Param,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { CheckpointError, SigningKeyError } from '@recon/eventlog';
import { ACCESS_STREAM, isKnownEventType } from '@recon/contracts';
import { RunEntity, type Platform } from '@recon/persistence';
import { PLATFORM, RequireRole, roleAllows, type AuthenticatedRequest, type Role } from '@recon/service-kit';
import { checkpointSources, auditRun, auditSummary, type RunAudit } from '@recon/audit';

/** Streams whose events need more than the viewer role: the access stream holds every token's secret hash. */
const STREAM_ROLES: Readonly<Record<string, Role>> = { [ACCESS_STREAM]: 'admin' };

/** Stream positions are PostgreSQL integers. */
const MAX_POSITION = 2 ** 31 - 1;

/** A stream id is 1-200 characters (the event contracts) and PostgreSQL text cannot hold NUL. */
function checkedRunId(runId: string): string {
  if (runId.length > 200 || runId.includes('\u0000')) {
    throw new BadRequestException(
      `path 'runId': expected 1-200 characters without NUL, got ${runId.length} character(s)${runId.includes('\u0000') ? ' holding NUL' : ''}`,
    );
  }
  return runId;
}

/** Refuses a stream the token's role may not read (the guard has checked the route's own role). */
function checkStreamAccess(runId: string, request: AuthenticatedRequest): void {
  const needed = STREAM_ROLES[runId];
  const held = request.identity?.role;
  if (needed && !(held && roleAllows(held, needed)))
    throw new ForbiddenException(`the stream '${runId}' needs the role '${needed}'; the token has '${held}'`);
}

/** `from`: a stream position, 1 to 2^31 - 1 (default 1). */
function checkedFrom(from: string | string[] | undefined): number {
  if (from === undefined) return 1;
  const position = typeof from === 'string' && /^\d{1,10}$/.test(from) ? Number(from) : NaN;
  if (!(position >= 1 && position <= MAX_POSITION)) {
    throw new BadRequestException(
      `query 'from': expected a stream position from 1 to ${MAX_POSITION}, got '${String(from)}'`,
    );
  }
  return position;
}

/** How many events one page of `/runs/:id/events` holds at most, and by default. */
export const MAX_EVENTS_PAGE = 5000;
export const DEFAULT_EVENTS_PAGE = 1000;

/** `limit`: 1 to MAX_EVENTS_PAGE events (default DEFAULT_EVENTS_PAGE). */
function checkedLimit(limit: string | string[] | undefined): number {
  if (limit === undefined) return DEFAULT_EVENTS_PAGE;
  const n = typeof limit === 'string' && /^\d{1,5}$/.test(limit) ? Number(limit) : NaN;
  if (!(n >= 1 && n <= MAX_EVENTS_PAGE))
    throw new BadRequestException(`query 'limit': expected 1 to ${MAX_EVENTS_PAGE} events, got '${String(limit)}'`);
  return n;
}

/** `after`: the last position of the previous page, 0 to 2^31 - 2. */
function checkedAfter(after: string | string[] | undefined): number | undefined {
  if (after === undefined) return undefined;
  const position = typeof after === 'string' && /^\d{1,10}$/.test(after) ? Number(after) : NaN;
  if (!(position >= 0 && position < MAX_POSITION))
    throw new BadRequestException(
      `query 'after': expected a stream position from 0 to ${MAX_POSITION - 1}, got '${String(after)}'`,
    );
  return position;
}

/** The columns `/runs` sorts by (`sort=name`, `sort=-requestedAt` for descending); ties go by run id. */
const RUN_SORT_KEYS = [
  'requestedAt',
  'finishedAt',
  'lastEventAt',
  'name',
  'status',
  'kind',
  'model',
  'eventCount',
  'runId',
] as const;
type RunSortKey = (typeof RUN_SORT_KEYS)[number];

function checkedSort(sort: string | string[] | undefined): { key: RunSortKey; direction: 'ASC' | 'DESC' } {
  if (sort === undefined) return { key: 'requestedAt', direction: 'ASC' };
  const text = typeof sort === 'string' ? sort : '';
  const key = text.replace(/^-/, '') as RunSortKey;
  if (!RUN_SORT_KEYS.includes(key))
    throw new BadRequestException(
      `query 'sort': expected one of ${RUN_SORT_KEYS.join(', ')} (prefix '-' for descending), got '${String(sort)}'`,
    );
  return { key, direction: text.startsWith('-') ? 'DESC' : 'ASC' };
}

/** Read access to runs: the read models for lists, the log itself for events and audits. */
@RequireRole('viewer')
@Controller('runs')
export class RunsController {
  constructor(@Inject(PLATFORM) private readonly platform: Platform) {}

  /**
   * Training runs and external evaluations (`kind`), oldest first unless `sort` names a column; the order is
   * stable: equal values are ordered by run id, and runs without the value (e.g. unfinished) come last. Each
   * row is the runs read model's: the stored `status` (requested, completed, failed) and `lastEventAt`, from
   * which a client derives running or stalled (@recon/run-activity).
   */
  @Get()
  async list(@Query('sort') sort?: string | string[]): Promise<RunEntity[]> {
    const { key, direction } = checkedSort(sort);
    await this.platform.projections.awaitProjected(undefined, { timeoutMs: 2000, onTimeout: 'return' });
    const order: Record<string, { direction: 'ASC' | 'DESC'; nulls: 'NULLS LAST' }> = {
      [key]: { direction, nulls: 'NULLS LAST' },
    };
    if (key !== 'runId') order.runId = { direction: 'ASC', nulls: 'NULLS LAST' };
    return this.platform.dataSource.getRepository(RunEntity).find({ order });
  }

  @Get(':runId')
  async get(@Param('runId') runId: string): Promise<RunEntity> {
    await this.platform.projections.awaitProjected(undefined, { timeoutMs: 2000, onTimeout: 'return' });
    const run = await this.platform.dataSource
      .getRepository(RunEntity)
      .findOneBy({ runId: checkedRunId(runId) });
    if (!run) throw new NotFoundException(`run '${runId}' does not exist`);
    return run;
  }

  @Get(':runId/events')
  async events(
    @Req() request: AuthenticatedRequest,
    @Param('runId') runId: string,
    @Query('type') type?: string | string[],
    @Query('from') from?: string | string[],
    @Query('after') after?: string | string[],
    @Query('limit') limit?: string | string[],
    @Res({ passthrough: true }) response?: { header(name: string, value: string): void },
  ) {
    checkedRunId(runId);
    checkStreamAccess(runId, request);
    const types = type === undefined ? undefined : Array.isArray(type) ? type : [type];
    for (const t of types ?? []) {
      if (!isKnownEventType(t))
        throw new BadRequestException(`query 'type': '${t}' is not a known event type`);
    }
    const afterPosition = checkedAfter(after);
    if (afterPosition !== undefined && from !== undefined)
      throw new BadRequestException("query: give 'from' or 'after', not both");
    const fromPosition = afterPosition !== undefined ? afterPosition + 1 : checkedFrom(from);
    const pageSize = checkedLimit(limit);
    if ((await this.platform.eventStore.streamVersion(runId)) === 0) {
      throw new NotFoundException(`run '${runId}' has no events`);
    }
    // One more than the page tells whether another page follows.
    const events = await this.platform.eventStore.readStream(runId, { fromPosition, types, limit: pageSize + 1 });
    if (events.length > pageSize) {
      events.length = pageSize;
      const next = new URLSearchParams({ after: String(events[pageSize - 1].position), limit: String(pageSize) });
      for (const t of types ?? []) next.append('type', t);
      response?.header('X-Next-After', String(events[pageSize - 1].position));
      response?.header('Link', `</runs/${encodeURIComponent(runId)}/events?${next}>; rel="next"`);
    }
    return events;
  }

  /**
   * The run audit of `recon audit <run> --json`: the hash chain, against the signed log checkpoints of the
   * gateway's home, and every blob the run references. Checkpoints that cannot be trusted (a bad signature, a
   * removed one) are no verdict on the run: the answer is 500 naming them.
   */
  @Get(':runId/audit')
  async audit(@Req() request: AuthenticatedRequest, @Param('runId') runId: string) {
    checkStreamAccess(checkedRunId(runId), request);
    let audit: RunAudit;
    try {
      audit = await auditRun(this.platform, runId, { checkpoints: checkpointSources(this.platform.home, {}) });
    } catch (error) {
      if (error instanceof CheckpointError || error instanceof SigningKeyError)
        throw new InternalServerErrorException(`the log checkpoints cannot be used: ${error.message}`);
      throw error;
    }
    if (audit.chain.eventsChecked === 0 && audit.chain.ok)
      throw new NotFoundException(`run '${runId}' has no events`);
    return auditSummary(audit);
  }
}
