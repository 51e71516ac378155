import type { DataSource, EntityManager } from 'typeorm';
import { sha256Hex, type EventStore } from '@recon/eventlog';
import { ProjectionCheckpointEntity } from '../entities';
import { columnNames, tableDefinition } from '../entities/table-definition';
import type { LogRange, Projector } from './projector';
import { PROJECTION_PROCESSOR_LOCK } from './projection-processor';
import { MetricsProjector } from './metrics.projector';
import { RunsProjector } from './runs.projector';
import { TokensProjector } from './tokens.projector';
import {
  evalResultsProjector,
  gameMatchesProjector,
  rewardsProjector,
  rolloutsProjector,
} from './row-per-event.projector';

export function defaultProjectors(): Projector[] {
  return [
    new RunsProjector(),
    new MetricsProjector(),
    rolloutsProjector(),
    rewardsProjector(),
    evalResultsProjector(),
    gameMatchesProjector(),
    new TokensProjector(),
  ];
}

/** Serialises projection work across processes: catch-up batches and rebuilds never interleave. */
const PROJECTION_LOCK = 7_224_031;

export interface TableDigest {
  table: string;
  rows: number;
  digest: string;
}

export interface ReadModelDigest {
  tables: TableDigest[];
  digest: string;
}

export interface RebuildResult {
  runId: string | null;
  eventsReplayed: number;
  before: ReadModelDigest;
  after: ReadModelDigest;
  identical: boolean;
}

/**
 * Keeps the read models up to date with the log. Each batch (a range of global positions) is applied in one
 * transaction that also moves every projector's checkpoint, so from the log's point of view each event is
 * projected exactly once.
 */
export class ProjectionRunner {
  private readonly decodedTypes: string[];

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    readonly projectors: Projector[] = defaultProjectors(),
    private readonly batchSize = 10000,
  ) {
    this.decodedTypes = [...new Set(projectors.flatMap((p) => p.eventTypes))];
  }

  private async checkpoints(manager: EntityManager): Promise<Map<string, number>> {
    const rows = await manager.find(ProjectionCheckpointEntity);
    return new Map(rows.map((row) => [row.projector, Number(row.globalPosition)]));
  }

  /** Projects every committed event not yet projected; returns how many positions were covered. */
  async catchUp(): Promise<number> {
    let total = 0;
    for (;;) {
      const covered = await this.applyNextBatch();
      if (covered === 0) return total;
      total += covered;
    }
  }

  /** The position every projector has applied (the lowest checkpoint; 0 before any projection). */
  async projectedPosition(): Promise<number> {
    const positions = await this.checkpoints(this.dataSource.manager);
    return Math.min(...this.projectors.map((p) => positions.get(p.name) ?? 0));
  }

  /**
   * Read-your-writes without projecting in the reader: waits until the read models cover `position` (the log
   * head now, by default). When no ProjectionProcessor holds its lock (a CLI against a database no api
   * serves, the embedded deployment), nobody else would project, so this process catches up itself. When
   * one does and is still behind after `timeoutMs`, it catches up itself (`onTimeout: 'catch-up'`, for the
   * CLI) or returns, leaving the reader with what is projected (`'return'`, for requests).
   */
  async awaitProjected(
    position?: number,
    {
      timeoutMs = 5000,
      onTimeout = 'catch-up',
    }: { timeoutMs?: number; onTimeout?: 'catch-up' | 'return' } = {},
  ): Promise<void> {
    const target = position ?? (await this.headPosition());
    if ((await this.projectedPosition()) >= target) return;
    if (!(await this.processorRunning())) {
      await this.catchUp();
      return;
    }
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 25));
      if ((await this.projectedPosition()) >= target) return;
    }
    if (onTimeout === 'catch-up') await this.catchUp();
  }

  private async headPosition(): Promise<number> {
    const rows: Array<{ global_position: string }> = await this.dataSource.query(
      'SELECT global_position FROM recon_log_head WHERE id = 1',
    );
    return Number(rows[0]?.global_position ?? 0);
  }

  /** Whether some session of this database holds the processor lock (a bigint key: objid low, objsubid 1). */
  private async processorRunning(): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = $1 AND objsubid = 1
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [PROJECTION_PROCESSOR_LOCK],
    );
    return rows.length > 0;
  }

  private async applyNextBatch(): Promise<number> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock($1)', [PROJECTION_LOCK]);
        const positions = await this.checkpoints(manager);
        const from = Math.min(...this.projectors.map((p) => positions.get(p.name) ?? 0));
        // The head row only ever shows committed appends, and positions below it are all committed.
        const [{ global_position: head }]: Array<{ global_position: string }> = await manager.query(
          'SELECT global_position FROM recon_log_head WHERE id = 1',
        );
        const upTo = Math.min(Number(head), from + this.batchSize);
        if (upTo <= from) return 0;
        await this.applyRange(manager, { after: from, upTo }, positions);
        const table = tableDefinition(ProjectionCheckpointEntity).name;
        const { projector: key, globalPosition } = columnNames(ProjectionCheckpointEntity);
        for (const projector of this.projectors) {
          await manager.query(
            `INSERT INTO ${table} (${key}, ${globalPosition}) VALUES ($1, $2)
             ON CONFLICT (${key}) DO UPDATE SET ${globalPosition} = GREATEST(${table}.${globalPosition}, $2)`,
            [projector.name, upTo],
          );
        }
        return upTo - from;
      });
    } catch (error) {
      this.projectors.forEach((p) => p.reset());
      throw new Error(`projection failed: ${(error as Error).message}`);
    }
  }

  /** Applies a range of the log to every projector, each from its own checkpoint when one is given. */
  private async applyRange(
    manager: EntityManager,
    range: LogRange,
    positions?: Map<string, number>,
  ): Promise<void> {
    const decoded =
      this.decodedTypes.length === 0
        ? []
        : await this.store.readAll(range.after, Number.MAX_SAFE_INTEGER, {
            upTo: range.upTo,
            types: this.decodedTypes,
            streamId: range.runId,
          });
    for (const projector of this.projectors) {
      const after = Math.max(range.after, positions?.get(projector.name) ?? 0);
      if (after >= range.upTo) continue;
      await projector.apply(
        manager,
        decoded.filter(
          (e) => e.globalPosition > after && !e.tombstonedBy && projector.eventTypes.includes(e.type),
        ),
      );
      await projector.applyRange(manager, { ...range, after });
    }
  }

  /** A digest of every read-model table (or of one run's rows), independent of physical row order. */
  async digest(runId?: string, manager: EntityManager = this.dataSource.manager): Promise<ReadModelDigest> {
    const tables: TableDigest[] = [];
    for (const projector of this.projectors) {
      for (const table of projector.tables) {
        if (runId !== undefined && table.perRun === false) continue;
        // Hashed inside PostgreSQL: the rows never travel to this process.
        const [result]: Array<{ rows: number; digest: string }> = await manager.query(
          `SELECT count(*)::int AS rows,
                  encode(sha256(convert_to(coalesce(string_agg(to_jsonb(t)::text, E'\\n' ORDER BY ${table.orderBy}), ''), 'UTF8')), 'hex') AS digest
             FROM ${table.name} t ${runId === undefined ? '' : 'WHERE run_id = $1'}`,
          runId === undefined ? [] : [runId],
        );
        tables.push({ table: table.name, rows: result.rows, digest: result.digest });
      }
    }
    return { tables, digest: sha256Hex(tables.map((t) => `${t.table}:${t.digest}\n`).join('')) };
  }

  /**
   * Drops a run's rows from every read model (or every row, without a run id) and projects them again
   * from the log, comparing table digests before and after.
   */
  async rebuild(runId?: string): Promise<RebuildResult> {
    await this.catchUp();
    let replayed = 0;
    const outcome = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [PROJECTION_LOCK]);
      const before = await this.digest(runId, manager);
      for (const projector of this.projectors) {
        for (const table of projector.tables) {
          if (runId !== undefined && table.perRun === false) continue;
          if (runId === undefined) await manager.query(`TRUNCATE ${table.name}`);
          else await manager.query(`DELETE FROM ${table.name} WHERE run_id = $1`, [runId]);
        }
        projector.reset();
      }
      const positions = await this.checkpoints(manager);
      const upTo = Math.min(...this.projectors.map((p) => positions.get(p.name) ?? 0));
      for (let after = 0; after < upTo; after += this.batchSize) {
        await this.applyRange(manager, { after, upTo: Math.min(upTo, after + this.batchSize), runId });
      }
      const [{ n }]: Array<{ n: number }> = await manager.query(
        `SELECT count(*)::int AS n FROM recon_events WHERE global_position <= $1 ${runId === undefined ? '' : 'AND stream_id = $2'}`,
        runId === undefined ? [upTo] : [upTo, runId],
      );
      replayed = n;
      const after = await this.digest(runId, manager);
      return { before, after };
    });
    this.projectors.forEach((p) => p.reset());
    return {
      runId: runId ?? null,
      eventsReplayed: replayed,
      before: outcome.before,
      after: outcome.after,
      identical: outcome.before.digest === outcome.after.digest,
    };
  }
}
