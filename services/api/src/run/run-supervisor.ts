import { hostname } from 'node:os';
import { ofType, type Producer } from '@recon/contracts';
import { deterministicEventId, type EventStore, type RecordedEvent } from '@recon/eventlog';
import { ownedStreamsHandler, type ExperimentConfig, type RunRequest } from '@recon/experiment';
import type { Consumer, EventBus } from '@recon/transport';

/** The policy stages a run produces and evaluates, in order. */
export function expectedStages(config: ExperimentConfig, fork = false): Array<'untrained' | 'sft' | 'grpo'> {
  if (config.policy.kind === 'openai') return ['untrained'];
  // A fork starts from its parent's SFT or GRPO checkpoint: it has no untrained stage of its own.
  if (fork) return (['sft', 'grpo'] as const).filter((stage) => config.evaluation.stages.includes(stage));
  const produced: Array<'untrained' | 'sft' | 'grpo'> = ['untrained'];
  if (config.sft) produced.push('sft');
  if (config.grpo) produced.push('grpo');
  return produced.filter((stage) => config.evaluation.stages.includes(stage));
}

function apiProducer(): Producer {
  return { service: 'api', version: '0.1.0', instance: `${hostname()}:${process.pid}` };
}

/**
 * The api service's part of a run's lifecycle: once every expected stage is evaluated it records
 * `run.completed` with the headline numbers of each stage. Only training runs: an external evaluation
 * records `evaluation.completed` too, and completes itself.
 */
export class RunSupervisor {
  private consumer: Consumer | null = null;

  constructor(private readonly options: { eventStore: EventStore; bus: EventBus }) {}

  async start(): Promise<void> {
    this.consumer = await this.options.bus.subscribe(
      { group: 'api', types: ['evaluation.completed'] },
      ownedStreamsHandler(
        { eventStore: this.options.eventStore, group: 'api', producer: apiProducer() },
        { run: (event, run) => this.handle(event, run) },
      ),
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  private async handle(event: RecordedEvent, run: RunRequest): Promise<void> {
    const runId = event.streamId;
    const { config, request } = run;
    const evaluations = await this.options.eventStore.readStream(runId, {
      types: ['evaluation.completed', 'run.completed', 'run.failed'],
    });
    if (evaluations.some((e) => e.type !== 'evaluation.completed')) return;
    const byStage = new Map(
      evaluations.filter(ofType('evaluation.completed')).map((e) => [e.payload.stage, e.payload]),
    );
    const stages = expectedStages(config, request.parent !== undefined);
    if (!stages.every((s) => byStage.has(s))) return;
    const summary: Record<string, number> = {};
    for (const stage of stages)
      for (const [key, value] of Object.entries(byStage.get(stage)!.results))
        summary[`${stage}.${key}`] = value;
    await this.options.eventStore.append(
      runId,
      [
        {
          eventId: deterministicEventId(runId, 'run.completed'),
          type: 'run.completed',
          causationId: event.eventId,
          payload: { summary },
        },
      ],
      {
        expectedVersion: 'any',
        producer: apiProducer(),
      },
    );
  }
}
