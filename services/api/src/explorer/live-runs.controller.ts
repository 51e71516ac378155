import { Controller, Get, Inject, Req, Res, type BeforeApplicationShutdown } from '@nestjs/common';
import { LogListener } from '@recon/eventlog';
import { RunEntity, type Platform } from '@recon/persistence';
import { PLATFORM, RequireRole } from '@recon/service-kit';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** At most one run list per second per client, however fast the log grows. */
const MIN_INTERVAL_MS = 1000;
/** A comment line keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

/**
 * Live run status as server-sent events: the run list (`event: runs`) when a client connects and again after
 * each commit to the log (woken by the log's LISTEN notifications, not by polling; at most once a second).
 * The explorer reads it with fetch and its Authorization header, so the token stays out of the URL.
 */
@RequireRole('viewer')
@Controller('live')
export class LiveRunsController implements BeforeApplicationShutdown {
  private readonly listener: LogListener;
  private readonly open = new Set<ServerResponse>();

  constructor(@Inject(PLATFORM) private readonly platform: Platform) {
    this.listener = new LogListener(platform.pool);
  }

  @Get('runs')
  async runs(@Req() request: IncomingMessage, @Res() response: ServerResponse): Promise<void> {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    this.open.add(response);
    let timer: NodeJS.Timeout | null = null;
    let lastSent = 0;
    const send = async () => {
      timer = null;
      lastSent = Date.now();
      await this.platform.projections.awaitProjected(undefined, { timeoutMs: 2000, onTimeout: 'return' });
      const runs = await this.platform.dataSource
        .getRepository(RunEntity)
        .find({ order: { requestedAt: 'ASC', runId: 'ASC' } });
      if (!response.writableEnded) response.write(`event: runs\ndata: ${JSON.stringify(runs)}\n\n`);
    };
    const schedule = () => {
      if (timer || response.writableEnded) return;
      timer = setTimeout(
        () => void send().catch(() => response.end()),
        Math.max(0, lastSent + MIN_INTERVAL_MS - Date.now()),
      );
    };
    const heartbeat = setInterval(() => response.write(': alive\n\n'), HEARTBEAT_MS);
    const stop = await this.listener.listen(() => schedule());
    response.on('close', () => {
      this.open.delete(response);
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
      void stop();
    });
    schedule();
  }

  /** Open streams never end on their own: end them so the server can close. */
  beforeApplicationShutdown(): void {
    for (const response of this.open) response.end();
  }
}
