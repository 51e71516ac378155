import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ExperimentConfig } from '@recon/experiment';
import { parseHfConfig, readJsonFile, weightFiles } from '@recon/pretrained';
import type { ConfigProblem } from './check-experiment';

type PretrainedPolicy = Extract<ExperimentConfig['policy'], { kind: 'pretrained' }>;

/**
 * What is wrong with a `kind: pretrained` policy before anything is recorded: a checkpoint directory that
 * does not load (architecture, files), and, until the run pipeline schedules pretrained training, the
 * run itself. The model trains through libs/pretrained (LoRA SFT and GRPO with the shared trainers, PEFT
 * export); a run must not fall through to the paths of the built-in or OpenAI policies.
 */
export function pretrainedProblems(policy: PretrainedPolicy): ConfigProblem[] {
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
  problems.push({
    key: 'policy.kind',
    reason:
      'pretrained checkpoints are loaded, LoRA-trained and exported by libs/pretrained, but `recon run` does not schedule them yet (issue 23)',
  });
  return problems;
}
