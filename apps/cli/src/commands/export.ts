import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { BlobStore } from '@recon/eventlog';
import { activeBackend, selectBackend } from '@recon/policy';
import {
  assertSameCheckpoint,
  checkExportTarget,
  ExportTargetNotEmptyError,
  loadAdapterCheckpoint,
  MERGED_DTYPES,
  type MergedDtype,
  type PretrainedSource,
  readAdapterCheckpoint,
  savePeftAdapter,
  writeMergedCheckpoint,
} from '@recon/pretrained';
import { CliFailure, withPlatform } from '../context';
import { printJsonOr } from '../output';
import { recordedPretrainedSource } from '../run/pretrained-source';

interface ExportOptions {
  peft?: string;
  merged?: string;
  dtype: MergedDtype;
  force?: boolean;
  stage?: string;
  json?: boolean;
}

function parseDtype(value: string): MergedDtype {
  if (!(MERGED_DTYPES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected ${MERGED_DTYPES.join(' or ')}, got '${value}'`);
  return value as MergedDtype;
}

/** Writes the stage's adapters in PEFT's format (the base loaded with them, as PEFT's own load would be). */
async function exportPeft(
  blobStore: BlobStore,
  source: PretrainedSource,
  checkpointHash: string,
  dir: string,
) {
  if (!activeBackend()) await selectBackend('auto');
  const loaded = loadAdapterCheckpoint(source, await blobStore.get(checkpointHash), checkpointHash);
  try {
    savePeftAdapter(loaded.model, dir, { baseModel: source.path });
  } finally {
    loaded.model.dispose();
  }
}

/** Writes the source with the stage's adapters merged in, reading one base tensor at a time (no model is built). */
async function exportMerged(
  blobStore: BlobStore,
  source: PretrainedSource,
  checkpointHash: string,
  dir: string,
  options: ExportOptions,
) {
  const adapters = readAdapterCheckpoint(source, await blobStore.get(checkpointHash), checkpointHash);
  assertSameCheckpoint(source.path, source);
  return writeMergedCheckpoint(source.path, adapters, dir, {
    dtype: options.dtype,
    overwrite: options.force,
  });
}

/**
 * `recon export <run> --peft <dir> | --merged <dir>`: a pretrained run's LoRA adapters (its final stage, or
 * --stage) in PEFT's format (adapter_config.json + adapter_model.safetensors) for vLLM --enable-lora or
 * transformers, and/or merged into the base as a complete Hugging Face checkpoint directory.
 */
export function exportCommand(): Command {
  return new Command('export')
    .description(
      "write a pretrained run's LoRA adapters in PEFT's format (vLLM --enable-lora, transformers) and/or merged into its base checkpoint",
    )
    .argument('<run>', 'run id')
    .option('--peft <dir>', 'directory to write adapter_config.json and adapter_model.safetensors into')
    .option(
      '--merged <dir>',
      'directory to write the base checkpoint with the adapters merged into (config, tokenizer files, safetensors weights)',
    )
    .addOption(
      new Option(
        '--dtype <dtype>',
        "dtype of the merged weights: source (each tensor's own dtype, rounded to nearest even) or float32",
      )
        .argParser(parseDtype)
        .default('source'),
    )
    .option('--force', 'write into a non-empty directory (its weight files are replaced)')
    .option('--stage <stage>', 'the policy stage to export (default: the last one recorded)')
    .option('--json', 'print JSON')
    .action(async (runId: string, options: ExportOptions) => {
      if (!options.peft && !options.merged)
        throw new CliFailure('nothing to export: give --peft <dir>, --merged <dir> or both', 2);
      if (options.peft && options.merged && path.resolve(options.peft) === path.resolve(options.merged))
        throw new CliFailure('--peft and --merged name the same directory: give each its own', 2);
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
        let merged;
        try {
          // A merged export that would be refused is refused before anything is written.
          if (options.merged) checkExportTarget(options.merged, source.path, options.force ?? false);
          if (options.peft) await exportPeft(platform.blobStore, source, ready.checkpointHash, options.peft);
          if (options.merged)
            merged = await exportMerged(
              platform.blobStore,
              source,
              ready.checkpointHash,
              options.merged,
              options,
            );
        } catch (error) {
          if (error instanceof ExportTargetNotEmptyError)
            throw new CliFailure(`${error.message} (--force to write over it)`);
          throw new CliFailure(`run ${runId} cannot be exported: ${(error as Error).message}`);
        }
        const parts = [
          ...(options.peft ? [`PEFT adapters to ${options.peft}`] : []),
          ...(merged
            ? [
                `merged weights (${options.dtype} dtype, ${merged.weightFiles.length} file(s)) to ${options.merged}`,
              ]
            : []),
        ];
        printJsonOr(
          {
            runId,
            stage: ready.stage,
            checkpointHash: ready.checkpointHash,
            ...(options.peft ? { dir: options.peft } : {}),
            ...(merged ? { merged: { dir: options.merged, dtype: options.dtype, ...merged } } : {}),
          },
          () =>
            `wrote the ${ready.stage} stage of ${runId} (checkpoint ${ready.checkpointHash.slice(0, 12)}): ${parts.join('; ')}`,
          options,
        );
      });
    });
}
