// The concise-correct reward as its own deployable: `node dist/services/reward-concise/src/main.js`.
import type { RewardDefinition } from '@recon/reward-sdk';
import { runRewardService } from '@recon/reward-sdk';
import { conciseCorrect } from './concise.reward';

runRewardService([conciseCorrect as RewardDefinition<never, never>]);
