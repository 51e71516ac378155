// The reward service's public entry: what the composition roots in services/api may import (as @recon/reward).
export * from './reward.module';
export * from './recon-hierarchical.reward';
