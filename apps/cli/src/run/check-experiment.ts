import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REWARD_REGISTRY_STREAM } from '@recon/contracts';
import { CURRICULUM_CATEGORIES, isCurriculumCategory } from '@recon/econ';
import type { EventStore } from '@recon/eventlog';
import type { ExperimentConfig } from '@recon/experiment';
import { FIRST_MERGE_ID, MAX_VOCAB_SIZE } from '@recon/policy';
import { distinctRewards, loadRewardPlugins, rewardPluginSpecsFromEnv } from '@recon/reward-sdk';
import { BUILT_IN_REWARDS } from '@recon/reward';
import { memoryProblems } from './memory-problems';
import { pretrainedProblems } from './pretrained-problems';

/** Something wrong with a config that passed its schema: the dotted key and why. */
export interface ConfigProblem {
  key: string;
  reason: string;
}

type Stage = 'untrained' | 'sft' | 'grpo';
const STAGE_ORDER: readonly Stage[] = ['untrained', 'sft', 'grpo'];

const quoted = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');

/**
 * What a run of a built-in policy would only find out after it started (a failed run, or one that never
 * ends) although the config passed its schema: shapes that do not fit together, names nothing knows, stages
 * nothing produces or that end the run before its training. A fork's config continues its parent's GRPO.
 */
export function configProblems(config: ExperimentConfig, options: { fork?: boolean } = {}): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const unknown = (config.datasets.curriculum?.categories ?? []).filter((c) => !isCurriculumCategory(c));
  if (unknown.length > 0)
    problems.push({
      key: 'datasets.curriculum.categories',
      reason: `unknown categor${unknown.length === 1 ? 'y' : 'ies'} ${quoted(unknown)}; known: ${Object.keys(CURRICULUM_CATEGORIES).join(', ')}`,
    });
  const stages = () => (options.fork ? forkStageProblems(config) : stageProblems(config));
  if (config.policy.kind === 'pretrained')
    return [...problems, ...pretrainedProblems(config, config.policy), ...stages()];
  if (config.policy.kind !== 'builtin') return problems;
  const { dModel, nHeads } = config.policy;
  if (dModel % nHeads !== 0)
    problems.push({
      key: 'policy.nHeads',
      reason: `${nHeads} does not divide policy.dModel ${dModel} (each attention head takes dModel / nHeads dimensions)`,
    });
  const vocabSize = config.tokenizer.vocabSize;
  if (vocabSize < FIRST_MERGE_ID)
    problems.push({
      key: 'tokenizer.vocabSize',
      reason: `${vocabSize} is below ${FIRST_MERGE_ID}, the ids the byte-level tokenizer reserves for the 256 bytes and its ${FIRST_MERGE_ID - 256} special tokens`,
    });
  if (vocabSize > MAX_VOCAB_SIZE)
    problems.push({
      key: 'tokenizer.vocabSize',
      reason: `${vocabSize} is above the largest vocabulary, ${MAX_VOCAB_SIZE}`,
    });
  problems.push(...memoryProblems(config));
  return [...problems, ...stages()];
}

/**
 * A run ends once the stages it both lists and trains are evaluated (`untrained` is always there): a list
 * naming only stages the config does not train is waited for forever, and training after the last listed
 * stage is cut off (an `[untrained]` run with sft and grpo completed without training). Evaluating the
 * untrained policy alone means leaving out the sft and grpo sections.
 */
function stageProblems(config: ExperimentConfig): ConfigProblem[] {
  const listed = config.evaluation.stages;
  const trained: Stage[] = [
    ...(config.sft ? (['sft'] as const) : []),
    ...(config.grpo ? (['grpo'] as const) : []),
  ];
  const evaluated = listed.filter((stage) => stage === 'untrained' || trained.includes(stage));
  if (evaluated.length === 0)
    return [
      {
        key: 'evaluation.stages',
        reason: `[${listed.join(', ')}] names no stage this config produces (it has no ${listed.join(' or ')} section), so nothing would be evaluated and the run would never end`,
      },
    ];
  const last = STAGE_ORDER[Math.max(...evaluated.map((stage) => STAGE_ORDER.indexOf(stage)))];
  const cut = trained.filter((stage) => STAGE_ORDER.indexOf(stage) > STAGE_ORDER.indexOf(last));
  if (cut.length === 0) return [];
  const sections = `${cut.join(' and ')} section${cut.length > 1 ? 's' : ''}`;
  return [
    {
      key: 'evaluation.stages',
      reason:
        `[${listed.join(', ')}] ends the run once the ${last} policy is evaluated, so the configured ` +
        `${cut.join(' and ')} would ${last === 'untrained' ? 'never train' : 'be cut off'}: ` +
        `add '${trained[trained.length - 1]}' to evaluation.stages, or remove the ${sections}` +
        (last === 'untrained' ? ' to evaluate the untrained policy alone' : ''),
    },
  ];
}

/** A fork continues its parent's GRPO from a checkpoint: it needs a grpo section and ends with its evaluation. */
function forkStageProblems(config: ExperimentConfig): ConfigProblem[] {
  if (!config.grpo)
    return [{ key: 'grpo', reason: "a fork continues its parent's GRPO: the config needs a grpo section" }];
  if (!config.evaluation.stages.includes('grpo'))
    return [
      {
        key: 'evaluation.stages',
        reason: `[${config.evaluation.stages.join(', ')}] leaves out 'grpo': a fork trains GRPO only, so its run would never end`,
      },
    ];
  return [];
}

function kindOf(path: string): 'file' | 'directory' | null {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'file';
  } catch {
    return null;
  }
}

/**
 * The Recon files the data service will import for `datasets.recon` (eval, sft and train, with or without a
 * curriculum beside them), checked where this process runs the data service (the embedded deployment).
 */
export function dataPathProblems(config: ExperimentConfig): ConfigProblem[] {
  const recon = config.datasets.recon;
  if (!recon) return [];
  const kind = kindOf(recon.path);
  if (kind !== 'directory')
    return [
      {
        key: 'datasets.recon.path',
        reason: `${resolve(recon.path)} ${kind === null ? 'does not exist' : 'is not a directory'}`,
      },
    ];
  return (['eval', 'sft', 'train'] as const)
    .filter((split) => kindOf(join(recon.path, recon[split])) !== 'file')
    .map((split) => ({
      key: `datasets.recon.${split}`,
      reason: `${resolve(recon.path, recon[split])} does not exist (datasets.recon.path is ${recon.path})`,
    }));
}

/** The rewards an embedded deployment serves: the reward service's built-ins and the plug-ins it loads. */
export function embeddedRewards(pluginSpecs: string[]): Array<{ id: string; version: string }> {
  return distinctRewards([
    ...BUILT_IN_REWARDS,
    ...loadRewardPlugins([...rewardPluginSpecsFromEnv(), ...pluginSpecs]),
  ]).map((reward) => ({ id: reward.id, version: reward.version }));
}

/** Reward ids any reward service (a deployable, a plug-in, a built-in) has ever registered on this log. */
export async function registeredRewardIds(eventStore: EventStore): Promise<string[]> {
  const registrations = await eventStore.readStream(REWARD_REGISTRY_STREAM, {
    types: ['reward.service.registered'],
  });
  return [...new Set(registrations.map((e) => e.payload.rewardId))];
}

/**
 * Rewards a GRPO run names that nothing can give: not served by this process's reward service and never
 * registered by any other. GRPO would wait grpo.rewardWaitSeconds for them, then fail the run. A reward whose
 * service has registered before (a deployable that may be restarting, another version) is waited for.
 */
export function rewardProblems(
  config: ExperimentConfig,
  served: ReadonlyArray<{ id: string; version: string }>,
  registered: readonly string[],
): ConfigProblem[] {
  if (!config.grpo) return [];
  const here = served.map((r) => `${r.id}@${r.version}`).join(', ') || 'none';
  return config.rewards.flatMap((reward, index) =>
    served.some((r) => r.id === reward.id) || registered.includes(reward.id)
      ? []
      : [
          {
            key: `rewards.${index}.id`,
            reason: `no reward service serves '${reward.id}': it is not built in (here: ${here}), no --reward-plugin module exports it, and no reward service has ever registered it; load its module with --reward-plugin, or start its service first`,
          },
        ],
  );
}
