import type { ExternalSuite } from '@recon/contracts';
import { deriveSeed, type Agent, type Observation } from '@recon/games';
import type { RecordedChatModel } from './recorded-chat';

/**
 * An external model playing through the text protocol: each decision is one recorded chat request of the
 * observation's messages, with a seed derived from the match seed and the decision index (servers that
 * honour `seed` replay a match exactly).
 */
export class ExternalAgent implements Agent {
  readonly name: string;
  private decisions = 0;

  constructor(
    private readonly model: RecordedChatModel,
    private readonly match: { matchId: string; seed: number; suite: ExternalSuite },
    private readonly sampling: { temperature: number; maxTokens: number },
  ) {
    this.name = `openai:${model.modelName}`;
  }

  act(observation: Observation): Promise<string> {
    const decision = this.decisions++;
    return this.model.complete(`${this.match.matchId}#${decision}`, this.match.suite, observation.messages, {
      ...this.sampling,
      seed: deriveSeed(this.match.seed, decision),
    });
  }
}
