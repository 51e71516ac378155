// The reward service's public entry: what the composition root apps/cli may import (as @recon/reward).
export * from './reward.module';
export * from './recon-hierarchical.reward';
