import { BadRequestException, Controller, Get, Inject, NotFoundException, Query } from '@nestjs/common';
import { ACCESS_STREAM } from '@recon/contracts';
import type { Platform } from '@recon/persistence';
import { PLATFORM, RequireRole } from '@recon/service-kit';
import { compareRuns, type RunComparison } from './compare-runs';

/** At most this many runs side by side. */
const MAX_COMPARED = 6;

/** `/compare?run=a&run=b[&run=c…]`: runs side by side, the first as the baseline of the paired changes. */
@RequireRole('viewer')
@Controller('compare')
export class CompareController {
  constructor(@Inject(PLATFORM) private readonly platform: Platform) {}

  @Get()
  async compare(@Query('run') run?: string | string[]): Promise<RunComparison> {
    const ids = run === undefined ? [] : Array.isArray(run) ? run : [run];
    if (ids.length < 2 || ids.length > MAX_COMPARED || new Set(ids).size !== ids.length)
      throw new BadRequestException(
        `query 'run': name 2 to ${MAX_COMPARED} different runs (run=a&run=b), got ${ids.length}`,
      );
    const runs = [];
    for (const runId of ids) {
      if (runId.length > 200 || runId.includes('\u0000'))
        throw new BadRequestException(`query 'run': expected 1-200 characters without NUL`);
      if (runId === ACCESS_STREAM) throw new NotFoundException(`'${runId}' is not a run`);
      const events = await this.platform.eventStore.readStream(runId);
      if (events.length === 0) throw new NotFoundException(`run '${runId}' has no events`);
      runs.push({ runId, events });
    }
    return compareRuns(runs);
  }
}
