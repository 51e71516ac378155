import { Command } from 'commander';
import { activeBackend, selectBackend } from '@recon/policy';
import { loadAdapterCheckpoint, savePeftAdapter } from '@recon/pretrained';
import { CliFailure, withPlatform } from '../context';
import { printJsonOr } from '../output';
import { recordedPretrainedSource } from '../run/pretrained-source';

/**
 * `recon export <run> --peft <dir>`: a pretrained run's LoRA adapters (its final stage, or --stage) in
 * PEFT's format (adapter_config.json + adapter_model.safetensors) for vLLM --enable-lora or transformers.
 */
export function exportCommand(): Command {
  return new Command('export')
    .description("write a pretrained run's LoRA adapters in PEFT's format (vLLM --enable-lora, transformers)")
    .argument('<run>', 'run id')
    .requiredOption(
      '--peft <dir>',
      'directory to write adapter_config.json and adapter_model.safetensors into',
    )
    .option('--stage <stage>', 'the policy stage to export (default: the last one recorded)')
    .option('--json', 'print JSON')
    .action(async (runId: string, options: { peft: string; stage?: string; json?: boolean }) => {
      await withPlatform(async (platform) => {
        if ((await platform.eventStore.streamVersion(runId)) === 0) throw new CliFailure(`no run ${runId}`);
        const source = await recordedPretrainedSource(platform.eventStore, runId);
        if (!source)
          throw new CliFailure(
            `run ${runId} has no pretrained policy (only LoRA adapters of one are exported)`,
            2,
          );
        const stages = (await platform.eventStore.readStream(runId, { types: ['policy.ready'] })).map(
          (e) => e.payload,
        );
        const ready = options.stage
          ? stages.find((s) => s.stage === options.stage)
          : stages[stages.length - 1];
        if (!ready)
          throw new CliFailure(
            `run ${runId} has no ${options.stage ? `stage ${options.stage}` : 'policy stage'} (it has ${stages.map((s) => s.stage).join(', ') || 'none'})`,
          );
        let loaded;
        try {
          if (!activeBackend()) await selectBackend('auto');
          loaded = loadAdapterCheckpoint(
            source,
            await platform.blobStore.get(ready.checkpointHash),
            ready.checkpointHash,
          );
        } catch (error) {
          throw new CliFailure(`run ${runId} cannot be exported: ${(error as Error).message}`);
        }
        try {
          savePeftAdapter(loaded.model, options.peft, { baseModel: source.path });
        } finally {
          loaded.model.dispose();
        }
        printJsonOr(
          { runId, stage: ready.stage, checkpointHash: ready.checkpointHash, dir: options.peft },
          () =>
            `wrote the ${ready.stage} adapters of ${runId} (checkpoint ${ready.checkpointHash.slice(0, 12)}) to ${options.peft}`,
          options,
        );
      });
    });
}
