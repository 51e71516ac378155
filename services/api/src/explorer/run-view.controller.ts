import {
  BadRequestException,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { RecordedEvent } from '@recon/eventlog';
import type { Platform } from '@recon/persistence';
import { PLATFORM, RequireRole, type AuthenticatedRequest } from '@recon/service-kit';
import { ACCESS_STREAM } from '@recon/contracts';
import { buildAuditView, type AuditView } from './audit-view';
import { listMatches, matchReplay, type MatchPage, type MatchReplay } from './game-replays';
import { stepGroups, withRescores, type StepGroups } from './grpo-groups';
import { ReplayVerifications, type VerificationJob } from './replay-verifications';
import { buildRunView, type RunView } from '@recon/run-report';

/** How many matches one page of the replay list holds at most. */
const MAX_MATCH_PAGE = 200;

type QueryValue = string | string[] | undefined;

/** An optional filter value: one string of at most 200 characters. */
function filterValue(name: string, value: QueryValue): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 200)
    throw new BadRequestException(`query '${name}': expected one value of at most 200 characters`);
  return value;
}

function count(name: string, value: QueryValue, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= max))
    throw new BadRequestException(`query '${name}': expected 0 to ${max}, got '${String(value)}'`);
  return n;
}

/** The explorer's views of one run, each built from the run's events on the server. */
@RequireRole('viewer')
@Controller('runs/:runId')
export class RunViewController {
  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    private readonly verifications: ReplayVerifications,
  ) {}

  private checkedRunId(runId: string): string {
    if (runId.length > 200 || runId.includes('\u0000'))
      throw new BadRequestException(`path 'runId': expected 1-200 characters without NUL`);
    // The access stream is no run (and is for admins only: see RunsController).
    if (runId === ACCESS_STREAM) throw new NotFoundException(`'${runId}' is not a run`);
    return runId;
  }

  private async events(runId: string): Promise<RecordedEvent[]> {
    const events = await this.platform.eventStore.readStream(this.checkedRunId(runId));
    if (events.length === 0) throw new NotFoundException(`run '${runId}' has no events`);
    return events;
  }

  /** The run page: config, datasets, training curves and the report's tables. */
  @Get('view')
  async view(@Param('runId') runId: string): Promise<RunView> {
    return buildRunView(runId, await this.events(runId));
  }

  /** The GRPO groups of one step: each prompt's completions with rewards, advantages and any rescores. */
  @Get('steps/:step/groups')
  async groups(@Param('runId') runId: string, @Param('step') step: string): Promise<StepGroups> {
    if (!/^\d{1,9}$/.test(step))
      throw new BadRequestException(`path 'step': expected a step number, got '${step}'`);
    const events = await this.events(runId);
    const groups = stepGroups(events, Number(step));
    if (groups.groups.length === 0)
      throw new NotFoundException(`run '${runId}' has no rollouts at step ${step}`);
    return withRescores(this.platform, runId, groups);
  }

  /** The run's finished matches and trials, filtered by game, stage, opponent and outcome, a page at a time. */
  @Get('matches')
  async matches(
    @Param('runId') runId: string,
    @Query('game') game?: QueryValue,
    @Query('stage') stage?: QueryValue,
    @Query('opponent') opponent?: QueryValue,
    @Query('outcome') outcome?: QueryValue,
    @Query('offset') offset?: QueryValue,
    @Query('limit') limit?: QueryValue,
  ): Promise<MatchPage> {
    const filter = {
      game: filterValue('game', game),
      stage: filterValue('stage', stage),
      opponent: filterValue('opponent', opponent),
      outcome: filterValue('outcome', outcome),
    };
    const page = {
      offset: count('offset', offset, 0, 1e9),
      limit: Math.max(1, count('limit', limit, 50, MAX_MATCH_PAGE)),
    };
    const events = await this.platform.eventStore.readStream(this.checkedRunId(runId), {
      types: ['game.move', 'game.finished'],
    });
    if (events.length === 0 && (await this.platform.eventStore.streamVersion(runId)) === 0)
      throw new NotFoundException(`run '${runId}' has no events`);
    return listMatches(events, filter, page);
  }

  /** One match move by move, with its outcome re-checked from the moves alone. */
  @Get('matches/:matchId')
  async match(@Param('runId') runId: string, @Param('matchId') matchId: string): Promise<MatchReplay> {
    if (matchId.length > 600)
      throw new BadRequestException(`path 'matchId': expected at most 600 characters`);
    const events = await this.platform.eventStore.readStream(this.checkedRunId(runId), {
      types: ['game.move', 'game.finished'],
    });
    const replay = matchReplay(events, matchId);
    if (!replay) throw new NotFoundException(`run '${runId}' has no finished match '${matchId}'`);
    return replay;
  }

  /** The audit: chain status, signed checkpoint, blob integrity, then `recon audit`'s report. */
  @Get('audit/report')
  async audit(@Param('runId') runId: string): Promise<AuditView> {
    if ((await this.platform.eventStore.streamVersion(this.checkedRunId(runId))) === 0)
      throw new NotFoundException(`run '${runId}' has no events`);
    try {
      return await buildAuditView(this.platform, runId);
    } catch (error) {
      throw new UnprocessableEntityException(
        `the audit of run '${runId}' could not run: ${(error as Error).message}`,
      );
    }
  }

  /** The latest `recon replay --verify` the gateway started for this run (null: none since it started). */
  @Get('audit/verification')
  verification(@Param('runId') runId: string): VerificationJob | Record<string, never> {
    return this.verifications.get(this.checkedRunId(runId)) ?? {};
  }

  /** Starts `recon replay <run> --verify` (operator): it re-executes the run and records the outcome on it. */
  @RequireRole('operator')
  @Post('audit/verification')
  @HttpCode(202)
  async verify(
    @Req() request: AuthenticatedRequest,
    @Param('runId') runId: string,
    @Res({ passthrough: true }) response: { header(name: string, value: string): void },
  ): Promise<VerificationJob> {
    if ((await this.platform.eventStore.streamVersion(this.checkedRunId(runId))) === 0)
      throw new NotFoundException(`run '${runId}' has no events`);
    const job = this.verifications.start(runId, request.identity?.name ?? 'unknown');
    if (!job) throw new ConflictException(`a verification of run '${runId}' is already running`);
    response.header('Location', `/runs/${encodeURIComponent(runId)}/audit/verification`);
    return job;
  }
}
