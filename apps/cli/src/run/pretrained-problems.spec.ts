import { resolve } from 'node:path';
import { parseExperimentConfig } from '@recon/experiment';
import { configProblems } from './check-experiment';

const FIXTURE = resolve(__dirname, '../../../../libs/pretrained/fixtures/tiny-qwen2');

const config = (policy: string) =>
  parseExperimentConfig(`name: t
datasets: { curriculum: { trainItems: 10, testItems: 4 } }
policy: ${policy}
`);

const stagesWithout = (stage: string) =>
  `evaluation: { stages: [${['untrained', 'sft', 'grpo'].filter((s) => s !== stage).join(', ')}], heldOut: { items: 2 } }\n`;

describe('a pretrained policy in the experiment config', () => {
  it('parses with PEFT-named LoRA targets and defaults', () => {
    const parsed = config(
      `{ kind: pretrained, path: ${FIXTURE}, lora: { rank: 8, targets: [q_proj, v_proj] } }`,
    );
    expect(parsed.policy).toEqual({
      kind: 'pretrained',
      path: FIXTURE,
      lora: { rank: 8, alpha: 32, dropout: 0, targets: ['q_proj', 'v_proj'] },
      backend: 'auto',
    });
    expect(() => config(`{ kind: pretrained, path: x, lora: { targets: [q] } }`)).toThrow(
      /policy\.lora\.targets/,
    );
    expect(() => config(`{ kind: pretrained, path: x, lora: { dropout: 0.05 } }`)).toThrow(/dropout/);
  });

  it('runs LoRA SFT and GRPO with held-out evaluation; grpo.lora, game suites and cut-off stages are refused', () => {
    const stages = `evaluation: { stages: [untrained, sft], heldOut: { items: 2 } }\nsft: { steps: 1 }\n`;
    expect(configProblems(config(`{ kind: pretrained, path: ${FIXTURE} }\n${stages}`))).toEqual([]);
    expect(configProblems(config(`{ kind: pretrained, path: /nonexistent/ckpt }\n${stages}`))).toEqual([
      { key: 'policy.path', reason: '/nonexistent/ckpt/config.json: file not found' },
    ]);
    const pretrained = `{ kind: pretrained, path: ${FIXTURE} }\nsft: { steps: 1 }\n`;
    const evaluation = (extra = '') =>
      `evaluation: { stages: [untrained, sft, grpo], heldOut: { items: 2 }${extra} }\n`;
    expect(configProblems(config(`${pretrained}grpo: { steps: 1 }\n${evaluation()}`))).toEqual([]);
    expect(
      configProblems(config(`${pretrained}grpo: { steps: 1, lora: { rank: 4 } }\n${evaluation()}`)).map(
        (p) => p.key,
      ),
    ).toEqual(['grpo.lora']);
    expect(configProblems(config(`${pretrained}grpo: { steps: 1 }\n${stagesWithout('grpo')}`))).toEqual([
      { key: 'evaluation.stages', reason: expect.stringMatching(/grpo would be cut off/) },
    ]);
    expect(
      configProblems(
        config(`${pretrained}grpo: { steps: 1 }\n${evaluation(', completeInformation: { trials: 1 }')}`),
      ).map((p) => p.key),
    ).toEqual(['evaluation.completeInformation']);
    expect(configProblems(config(`{ kind: pretrained, path: ${FIXTURE} }`), { fork: true })).toEqual([
      { key: 'grpo', reason: expect.stringMatching(/a fork continues its parent's GRPO/) },
    ]);
  });
});
