import { Module, type DynamicModule } from '@nestjs/common';
import {
  distinctRewards,
  loadRewardPlugins,
  rewardPluginSpecsFromEnv,
  rewardWorkersModule,
  type RewardDefinition,
} from '@recon/reward-sdk';
import { reconHierarchical } from './recon-hierarchical.reward';

/** The reward definitions this deployable serves; a new reward is a plug-in or its own deployable, not an edit here. */
export const BUILT_IN_REWARDS: Array<RewardDefinition<never, never>> = [
  reconHierarchical as RewardDefinition<never, never>,
];

/** The reward service: its built-in rewards plus the plug-ins named (`--reward-plugin`, RECON_REWARD_PLUGINS). */
@Module({})
export class RewardModule {
  static forRoot(pluginSpecs: string[] = rewardPluginSpecsFromEnv()): DynamicModule {
    const rewards = distinctRewards([...BUILT_IN_REWARDS, ...loadRewardPlugins(pluginSpecs)]);
    return { module: RewardModule, imports: [rewardWorkersModule(rewards)] };
  }
}
