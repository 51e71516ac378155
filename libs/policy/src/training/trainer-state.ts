import { DataPosition } from './data-cursor';
import { AdamWState } from './optimizer';
import { RngState } from './rng';

/** Everything besides the weights that a trainer needs to continue exactly where it stopped. */
export interface TrainerState {
  step: number;
  optimizer: AdamWState;
  /** State of the trainer's own RNG (SFT's data shuffling); absent when the trainer draws no randomness. */
  rng?: RngState;
  /** SFT walks a dataset; GRPO receives rollouts from outside and has none. */
  dataPosition?: DataPosition;
}
