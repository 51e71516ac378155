import { stratifiedSample, tagProblem } from '@recon/econ';
import { deriveSeed } from '@recon/games';
import { loadRegisteredDataset, type Platform } from '@recon/persistence';
import {
  runExternalEvaluation,
  type ExternalEvaluationOptions,
  type ReconEvalItem,
} from '@recon/evaluation';
import { importDataset, withGoldCorrections } from '@recon/data';

/**
 * An external evaluation as `recon eval` and `recon run` (a config with `policy.kind: openai`) ask for it:
 * the Recon-Eval items are named by their CSV file, which is imported and registered before anything runs.
 */
export type ExternalEvaluationRequest = Omit<
  ExternalEvaluationOptions,
  'reconEval' | 'requestedBy' | 'codeVersion' | 'signal' | 'onProgress'
> & {
  reconEval?: { file: string; limit?: number; temperature: number };
};

export interface ExternalEvaluationContext {
  requestedBy: string;
  codeVersion: string;
  signal?: AbortSignal;
  onProgress?: ExternalEvaluationOptions['onProgress'];
}

/** Imports the Recon-Eval CSV (when recon-eval is asked for) and evaluates the model into its own stream. */
export async function evaluateExternalModel(
  platform: Platform,
  request: ExternalEvaluationRequest,
  context: ExternalEvaluationContext,
): Promise<Record<string, number>> {
  let reconEval: ExternalEvaluationOptions['reconEval'];
  if (request.reconEval) {
    const imported = await importDataset({ file: request.reconEval.file, split: 'eval' }, platform);
    // Graded against the gold corrections recorded for the file's version (a derived version when any).
    const dataset = (await withGoldCorrections(platform, { ...imported, split: 'eval' })).registration;
    const rows = (await loadRegisteredDataset<ReconEvalItem>(platform, dataset.versionHash)).rows;
    // A limit draws a seeded subset stratified by category (the CSV is stored in category blocks).
    const drawn = stratifiedSample(
      rows,
      request.reconEval.limit,
      deriveSeed(request.seed, 'eval-sample', 'recon-eval'),
      (row) => row.category ?? tagProblem(row.messages.map((m) => m.content).join('\n')),
    );
    reconEval = {
      dataset: { name: dataset.name, versionHash: dataset.versionHash, rowCount: dataset.rowCount },
      items: drawn.rows,
      temperature: request.reconEval.temperature,
      sample: {
        suite: 'recon-eval',
        dataset: { name: dataset.name, versionHash: dataset.versionHash },
        ...drawn.record,
      },
    };
  }
  return runExternalEvaluation({ ...request, ...context, reconEval }, platform);
}
