import { resolve } from 'node:path';
import { parseExperimentConfig } from '@recon/experiment';
import { configProblems } from './check-experiment';

const FIXTURE = resolve(__dirname, '../../../../libs/pretrained/fixtures/tiny-qwen2');

const config = (policy: string) =>
  parseExperimentConfig(`name: t
datasets: { curriculum: { trainItems: 10, testItems: 4 } }
policy: ${policy}
`);

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

  it('runs LoRA SFT with held-out evaluation; GRPO, game suites and missing stages are refused', () => {
    const stages = `evaluation: { stages: [untrained, sft], heldOut: { items: 2 } }\nsft: { steps: 1 }\n`;
    expect(configProblems(config(`{ kind: pretrained, path: ${FIXTURE} }\n${stages}`))).toEqual([]);
    expect(configProblems(config(`{ kind: pretrained, path: /nonexistent/ckpt }\n${stages}`))).toEqual([
      { key: 'policy.path', reason: '/nonexistent/ckpt/config.json: file not found' },
    ]);
    expect(
      configProblems(config(`{ kind: pretrained, path: ${FIXTURE} }\n${stages}grpo: { steps: 1 }\n`)).map(
        (p) => p.key,
      ),
    ).toEqual(['grpo']);
    expect(configProblems(config(`{ kind: pretrained, path: ${FIXTURE} }`))).toEqual([
      { key: 'evaluation.stages', reason: expect.stringMatching(/^sft, grpo: not a stage/) },
    ]);
  });
});
