import { DatasetImportError } from '@recon/econ';
import { OpponentSettingError } from '@recon/evaluation';
import { BlobNotFoundError, type RecordedEvent } from '@recon/eventlog';
import { ConfigError } from '@recon/experiment';
import { HandlerFailedError } from '@recon/transport';
import { CliFailure } from './context';
import { debugFromEnvironment, describeFailure } from './errors';

const STACK_LINE = /^\s+at /m;

describe('describeFailure', () => {
  it.each([
    [new CliFailure('--seed: bad', 2), 'recon: --seed: bad\n', 2],
    [
      new ConfigError('a.yaml', 3, 'policy.nHeads', '5 does not divide policy.dModel 64'),
      "recon: a.yaml:3: 'policy.nHeads': 5 does not divide policy.dModel 64\n",
      2,
    ],
    [
      new DatasetImportError('d.csv', [{ file: 'd.csv', line: 4, reason: 'answer is empty' }]),
      'line 4: answer is empty',
      1,
    ],
    [new BlobNotFoundError('ab'.repeat(32)), `recon: blob ${'ab'.repeat(32)} is not in the blob store\n`, 1],
    [
      new OpponentSettingError(1, 'checkpoint:r9/sft', 'no run r9 in this home'),
      'recon: evaluation.gtbench.opponents[1] (checkpoint:r9/sft): no run r9 in this home\n',
      2,
    ],
  ] as const)('prints a known failure as its message alone: %s', (error, text, exitCode) => {
    const failure = describeFailure(error, false);
    expect(failure.text).toContain(text);
    expect(failure.text).not.toMatch(STACK_LINE);
    expect(failure.exitCode).toBe(exitCode);
  });

  it("names a missing file by its path, from Node's error", () => {
    const error = Object.assign(new Error("ENOENT: no such file or directory, open 'x.csv'"), {
      code: 'ENOENT',
      syscall: 'open',
      path: 'x.csv',
    });
    expect(describeFailure(error, false)).toEqual({
      text: 'recon: x.csv: no such file or directory (ENOENT)\n',
      exitCode: 1,
    });
  });

  it('prints an unexpected error short, and its stack only in debug mode', () => {
    const error = new TypeError('cannot read properties of undefined');
    const quiet = describeFailure(error, false);
    expect(quiet.exitCode).toBe(1);
    expect(quiet.text).toContain('recon: unexpected error: TypeError: cannot read properties of undefined');
    expect(quiet.text).toContain('--debug');
    expect(quiet.text).not.toMatch(STACK_LINE);
    expect(describeFailure(error, true).text).toMatch(STACK_LINE);
  });

  it("shows a failed handler's own stack under the bus error in debug mode", () => {
    const cause = new RangeError('deep inside the handler');
    const error = new HandlerFailedError(
      'training',
      { type: 'x', streamId: 'r', position: 3 } as unknown as RecordedEvent,
      cause,
    );
    expect(describeFailure(error, false).text).not.toMatch(STACK_LINE);
    const debug = describeFailure(error, true).text;
    expect(debug).toContain(
      "consumer group 'training' failed on event x (run r, position 3): deep inside the handler",
    );
    expect(debug).toContain('caused by RangeError: deep inside the handler');
  });

  it.each([
    ['1', true],
    ['true', true],
    ['0', false],
    ['', false],
    [undefined, false],
  ])('RECON_DEBUG=%s means debug: %s', (value, debug) => {
    expect(debugFromEnvironment({ RECON_DEBUG: value })).toBe(debug);
  });
});
