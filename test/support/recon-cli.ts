import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The CLI, run from dist/ (`npm run build` first). */
export const RECON_BIN = resolve(__dirname, '../../bin/recon');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `recon <args>` with `env` over this process's environment: its exit code and output, failed or not. */
export async function runRecon(
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 120_000,
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [RECON_BIN, ...args], {
      env: { ...process.env, ...env },
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}
