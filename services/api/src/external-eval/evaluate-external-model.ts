import { loadRegisteredDataset, type Platform } from '@recon/persistence';
import {
  runExternalEvaluation,
  type ExternalEvaluationOptions,
  type ReconEvalItem,
} from '../../../evaluation/src/external';
import { importDataset } from '../../../data/src/import-dataset';

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
    const dataset = await importDataset({ file: request.reconEval.file, split: 'eval' }, platform);
    const rows = (await loadRegisteredDataset<ReconEvalItem>(platform, dataset.versionHash)).rows;
    reconEval = {
      dataset: { name: dataset.name, versionHash: dataset.versionHash, rowCount: dataset.rowCount },
      items: rows.slice(0, request.reconEval.limit ?? rows.length),
      temperature: request.reconEval.temperature,
    };
  }
  return runExternalEvaluation({ ...request, ...context, reconEval }, platform);
}
