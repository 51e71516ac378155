import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

/**
 * tfjs-core's CommonJS entry (what Node and jest load) registers no gradients: the registrations live
 * only in its ESM build (dist/register_all_gradients.js), whose extensionless relative imports neither
 * Node's ESM loader nor jest can load. This loads that ESM graph once, compiled to CommonJS with swc.
 * The loaded copy of tfjs-core shares the global engine and gradient registry (tfjs keeps both on the
 * global object precisely so that several copies cooperate), so the gradients land where `tf` looks.
 */
export function ensureGradientsRegistered(): void {
  if (tf.getGradient('RealDiv') && tf.getGradient('Max')) return;
  const coreMain = require.resolve('@tensorflow/tfjs-core');
  const entry = path.join(path.dirname(coreMain), 'register_all_gradients.js');
  if (!fs.existsSync(entry))
    throw new Error(`ensureGradientsRegistered: ${entry} not found (tfjs-core layout changed?)`);
  new EsmGraphLoader().load(entry);
  if (!tf.getGradient('RealDiv'))
    throw new Error('ensureGradientsRegistered: loading register_all_gradients had no effect');
}

class EsmGraphLoader {
  private readonly cache = new Map<string, { exports: unknown }>();
  private readonly swc = loadSwc();

  load(file: string): unknown {
    const cached = this.cache.get(file);
    if (cached) return cached.exports;
    const module = { exports: {} as unknown };
    this.cache.set(file, module);
    const source = fs.readFileSync(file, 'utf8');
    const { code } = this.swc.transformSync(source, {
      filename: file,
      module: { type: 'commonjs' },
      jsc: { target: 'es2020', parser: { syntax: 'ecmascript' } },
      sourceMaps: false,
      swcrc: false,
      configFile: false,
    });
    const nodeRequire = createRequire(file);
    const localRequire = (specifier: string): unknown =>
      specifier.startsWith('.') ? this.load(this.resolve(file, specifier)) : nodeRequire(specifier);
    const evaluate = new Function('exports', 'require', 'module', '__filename', '__dirname', code);
    evaluate(module.exports, localRequire, module, file, path.dirname(file));
    return module.exports;
  }

  private resolve(from: string, specifier: string): string {
    const base = path.resolve(path.dirname(from), specifier);
    for (const candidate of [base, `${base}.js`, path.join(base, 'index.js')]) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
    }
    throw new Error(`ensureGradientsRegistered: cannot resolve "${specifier}" from ${from}`);
  }
}

function loadSwc(): typeof import('@swc/core') {
  try {
    // Loaded lazily: swc is a build tool and only this start-up path needs it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@swc/core');
  } catch (error) {
    throw new Error(
      `ensureGradientsRegistered: @swc/core is needed to load tfjs-core's gradient registrations (${(error as Error).message})`,
    );
  }
}
