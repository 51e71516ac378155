import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ExperimentConfig } from '@recon/experiment';
import { parameterCount, parseHfConfig, readJsonFile, weightFiles } from '@recon/pretrained';
import type { ConfigProblem } from './check-experiment';
import { pretrainedMemoryProblems } from './memory-problems';

type PretrainedPolicy = Extract<ExperimentConfig['policy'], { kind: 'pretrained' }>;

/**
 * What is wrong with a `kind: pretrained` run before anything is recorded: a checkpoint directory that does
 * not load (architecture, files) or whose weights cannot fit the backend's heap, LoRA settings given twice, and what the run pipeline does not schedule
 * for a pretrained policy yet: the game suites (it trains LoRA SFT and GRPO and evaluates held-out problems).
 */
export function pretrainedProblems(config: ExperimentConfig, policy: PretrainedPolicy): ConfigProblem[] {
  const dir = resolve(policy.path);
  const problems: ConfigProblem[] = [];
  try {
    const spec = parseHfConfig(readJsonFile(join(dir, 'config.json')), join(dir, 'config.json'));
    weightFiles(dir);
    for (const file of ['tokenizer.json', 'tokenizer_config.json'])
      if (!existsSync(join(dir, file))) throw new Error(`${join(dir, file)}: file not found`);
    problems.push(...pretrainedMemoryProblems(policy, parameterCount(spec)));
  } catch (error) {
    problems.push({ key: 'policy.path', reason: (error as Error).message });
  }
  if (config.grpo?.lora)
    problems.push({
      key: 'grpo.lora',
      reason:
        "a pretrained policy's GRPO trains the adapters policy.lora describes (KL to the base with them off); remove grpo.lora",
    });
  for (const suite of ['completeInformation', 'gtbench'] as const)
    if (config.evaluation[suite])
      problems.push({
        key: `evaluation.${suite}`,
        reason:
          'a pretrained policy is evaluated on held-out problems only; the game suites run built-in policies',
      });
  return problems;
}
