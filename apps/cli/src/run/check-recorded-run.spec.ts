import type { RecordedEvent } from '@recon/eventlog';
import { blobsToResume, forkStart } from './check-recorded-run';

const hash = (c: string) => c.repeat(64);
const event = (type: string, payload: Record<string, unknown>) =>
  ({ type, payload }) as unknown as RecordedEvent;

/** A run that finished SFT, evaluated it, and saved GRPO checkpoints at steps 1 and 2 before it stopped. */
const RUN = [
  event('dataset.resolved', {
    datasets: [
      { role: 'sft', name: 'traces', blobHash: hash('1') },
      { role: 'grpo', name: 'train', blobHash: hash('2') },
    ],
  }),
  event('tokenizer.trained', { tokenizerHash: hash('3') }),
  event('policy.initialised', { tokenizerHash: hash('3') }),
  event('policy.ready', { stage: 'untrained', checkpointHash: hash('4') }),
  event('evaluation.completed', { stage: 'untrained' }),
  event('policy.ready', { stage: 'sft', checkpointHash: hash('5') }),
  event('evaluation.completed', { stage: 'sft' }),
  event('rollouts.requested', { step: 1, policyVersion: hash('5') }),
  event('checkpoint.saved', { phase: 'grpo', step: 1, checkpointHash: hash('6') }),
  event('rollouts.requested', { step: 2, policyVersion: hash('6') }),
  event('checkpoint.saved', { phase: 'grpo', step: 2, checkpointHash: hash('7') }),
  event('rollouts.requested', { step: 3, policyVersion: hash('7') }),
];

describe('blobsToResume', () => {
  it('lists datasets, tokenizer, the GRPO reference, the last GRPO checkpoint; not stages already evaluated', () => {
    expect(blobsToResume(RUN)).toEqual([
      { what: 'the sft dataset traces', hash: hash('1') },
      { what: 'the grpo dataset train', hash: hash('2') },
      { what: 'the tokenizer', hash: hash('3') },
      { what: 'the sft checkpoint', hash: hash('5') },
      { what: 'the last GRPO checkpoint (step 2)', hash: hash('7') },
    ]);
  });
});

describe('forkStart', () => {
  it('starts at the SFT checkpoint (step 0) or at the GRPO checkpoint of the step', () => {
    expect(forkStart('p', RUN, 0)).toEqual({
      blobs: [
        { what: 'the SFT checkpoint', hash: hash('5') },
        { what: 'the tokenizer', hash: hash('3') },
        { what: 'the grpo dataset train', hash: hash('2') },
      ],
    });
    expect(forkStart('p', RUN, 2)).toMatchObject({ blobs: [{ hash: hash('7') }, {}, {}] });
  });

  it("reads a pretrained parent's tokenizer (its directory's tokenizer.json) from policy.initialised", () => {
    const pretrained = RUN.filter((e) => e.type !== 'tokenizer.trained').map((e) =>
      e.type === 'policy.initialised' ? event('policy.initialised', { tokenizerHash: hash('8') }) : e,
    );
    expect(forkStart('p', pretrained, 1)).toEqual({
      blobs: [
        { what: 'the GRPO checkpoint of step 1', hash: hash('6') },
        { what: 'the tokenizer', hash: hash('8') },
        { what: 'the grpo dataset train', hash: hash('2') },
      ],
    });
  });

  it('names a step without a checkpoint (bad usage) and a parent without SFT', () => {
    expect(forkStart('p', RUN, 3)).toEqual({
      problem: '--from-step 3: run p has no GRPO checkpoint at step 3 (it has 1, 2; 0 is its SFT checkpoint)',
      usage: true,
    });
    expect(forkStart('p', RUN.slice(0, 1), 0)).toEqual({
      problem: 'run p has no SFT checkpoint to fork from (it has not finished SFT)',
      usage: false,
    });
  });
});
