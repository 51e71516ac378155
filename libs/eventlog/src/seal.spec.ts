import { ContractViolationError, storableText } from '@recon/contracts';
import { prepareEvents } from './seal';

const rollout = (completion: string) => ({
  type: 'rollout.generated' as const,
  payload: {
    rolloutId: '1/p/0',
    step: 1,
    promptId: 'p',
    groupIndex: 0,
    policyVersion: 'a'.repeat(64),
    seed: 1,
    completion,
    completionTokens: 1,
    truncated: false,
    finishReason: 'eos' as const,
  },
});

describe('prepareEvents', () => {
  it('refuses U+0000 anywhere (PostgreSQL cannot store it) and names the event', () => {
    expect(() => prepareEvents('run', [rollout('a\u0000b')])).toThrow(ContractViolationError);
    expect(() => prepareEvents('run', [rollout('a\u0000b')])).toThrow(/rollout.generated.*U\+0000/);
    expect(() => prepareEvents('run', [{ ...rollout('ok'), meta: { note: '\u0000' } }])).toThrow(/U\+0000/);
  });

  it('accepts model output made storable', () => {
    expect(storableText('a\u0000b')).toBe('a\ufffdb');
    expect(prepareEvents('run', [rollout(storableText('a\u0000b'))])).toHaveLength(1);
  });

  it('accepts a literal backslash followed by u0000', () => {
    expect(prepareEvents('run', [rollout('a\\u0000b')])).toHaveLength(1);
    expect(prepareEvents('run', [rollout('a\\\\u0000b')])).toHaveLength(1);
  });
});
