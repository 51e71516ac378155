import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ExperimentConfig } from '@recon/experiment';
import { parseHfConfig, readJsonFile, weightFiles } from '@recon/pretrained';
import type { ConfigProblem } from './check-experiment';

type PretrainedPolicy = Extract<ExperimentConfig['policy'], { kind: 'pretrained' }>;

/**
 * What is wrong with a `kind: pretrained` run before anything is recorded: a checkpoint directory that does
 * not load (architecture, files), and what the run pipeline does not schedule for a pretrained policy yet:
 * GRPO and the game suites (it trains LoRA SFT in the training process and evaluates held-out problems).
 */
export function pretrainedProblems(config: ExperimentConfig, policy: PretrainedPolicy): ConfigProblem[] {
  const dir = resolve(policy.path);
  const problems: ConfigProblem[] = [];
  try {
    parseHfConfig(readJsonFile(join(dir, 'config.json')), join(dir, 'config.json'));
    weightFiles(dir);
    for (const file of ['tokenizer.json', 'tokenizer_config.json'])
      if (!existsSync(join(dir, file))) throw new Error(`${join(dir, file)}: file not found`);
  } catch (error) {
    problems.push({ key: 'policy.path', reason: (error as Error).message });
  }
  if (config.grpo)
    problems.push({
      key: 'grpo',
      reason:
        'GRPO on a pretrained policy is not scheduled by `recon run` yet (LoRA SFT is); remove the grpo section',
    });
  for (const suite of ['completeInformation', 'gtbench'] as const)
    if (config.evaluation[suite])
      problems.push({
        key: `evaluation.${suite}`,
        reason:
          'a pretrained policy is evaluated on held-out problems only; the game suites run built-in policies',
      });
  const trained = ['untrained', ...(config.sft ? ['sft'] : [])];
  const missing = config.evaluation.stages.filter((s) => !trained.includes(s));
  if (missing.length > 0)
    problems.push({
      key: 'evaluation.stages',
      reason: `${missing.join(', ')}: not a stage this run produces (it has ${trained.join(', ')})`,
    });
  return problems;
}
