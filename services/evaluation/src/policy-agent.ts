import type { Agent, Observation } from '@recon/games';
import { deriveSeed } from '@recon/games';
import { generate } from '@recon/policy';
import { storableText } from '@recon/contracts';
import { promptTokens, type LoadedPolicy } from '@recon/policy-runtime';

/**
 * A built-in policy playing through the text protocol: each decision is one sampled completion of the
 * observation's chat messages (left-shortened to fit the context), with a seed derived from the match seed
 * and the decision index, so a match replays exactly.
 */
export class PolicyAgent implements Agent {
  readonly name: string;
  private decisions = 0;

  constructor(
    private readonly policy: LoadedPolicy,
    private readonly seed: number,
    private readonly sampling: { temperature: number; maxTokens: number },
  ) {
    this.name = `policy:${policy.checkpointHash.slice(0, 12)}`;
  }

  async act(observation: Observation): Promise<string> {
    const { model, tokenizer } = this.policy;
    const context = model.config.context;
    const maxTokens = Math.min(this.sampling.maxTokens, context - 2);
    const { ids } = promptTokens(tokenizer, observation.messages, context, maxTokens);
    const [completion] = generate(
      model,
      tokenizer,
      [{ promptIds: ids, seed: deriveSeed(this.seed, this.decisions++) }],
      {
        temperature: this.sampling.temperature,
        maxTokens,
        stopTokenIds: [tokenizer.specialTokens.eos],
      },
    );
    // What the agent said is recorded as game.move rawText: keep it storable.
    return storableText(completion.text);
  }
}
