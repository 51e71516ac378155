import { dirname, join } from 'node:path';
import ts from 'typescript';
import { describeManifest, type Manifest } from './manifests';

/**
 * Schemas of Kubernetes' own kinds and of the prometheus-operator kinds, from the kubernetes-models
 * packages: validators and TypeScript types generated from the Kubernetes OpenAPI document and the
 * prometheus-operator CRDs.
 */
const PACKAGES: Array<{ group: (apiVersion: string) => boolean; module: string }> = [
  { group: (v) => v.startsWith('monitoring.coreos.com/'), module: '@kubernetes-models/prometheus-operator' },
  { group: (v) => !v.includes('.') || v.includes('.k8s.io/'), module: 'kubernetes-models' },
];

/** The module of the object's model, e.g. `kubernetes-models/apps/v1/Deployment`, or undefined. */
export function modelModule(m: Pick<Manifest, 'apiVersion' | 'kind'>): string | undefined {
  const pkg = PACKAGES.find((p) => p.group(m.apiVersion));
  if (!pkg) return undefined;
  const module = `${pkg.module}/${m.apiVersion}/${m.kind}`;
  try {
    require.resolve(module);
  } catch {
    return undefined;
  }
  return module;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** Types, required fields, enums and formats, as the model's validator checks them. */
export function validateBuiltin(m: Manifest): string[] {
  const module = modelModule(m);
  if (!module) throw new Error(`no model for ${m.apiVersion} ${m.kind}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Model = (require(module) as Record<string, ModelClass>)[m.kind];
  try {
    new Model(m).validate();
    return [];
  } catch (error) {
    return (error as Error).message.split('\n').map((line) => `${describeManifest(m)}: ${line}`);
  }
}

/**
 * Unknown fields, which the model validators let through but `kubectl apply` rejects: every object is
 * written as a literal of its model's TypeScript type, and the compiler's excess-property and type checks
 * name each field the API does not define.
 */
export function checkFieldsAgainstTypes(manifests: Manifest[]): string[] {
  const root = dirname(require.resolve('kubernetes-models/package.json'));
  const file = join(dirname(dirname(root)), '__recon_manifests__.ts');
  // One import and one typed constant per object; firstLine[i] is where object i's lines begin.
  const chunks: string[] = [];
  const firstLine: number[] = [];
  let lineCount = 0;
  manifests.forEach((m, i) => {
    const module = modelModule(m);
    if (!module) throw new Error(`no model for ${m.apiVersion} ${m.kind}`);
    const chunk = `import type { I${m.kind} as T${i} } from '${module}';\nexport const o${i}: T${i} = ${JSON.stringify(m, null, 2)};`;
    firstLine.push(lineCount);
    lineCount += chunk.split('\n').length;
    chunks.push(chunk);
  });
  const text = chunks.join('\n');
  const textLines = text.split('\n');

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, text, language) : getSourceFile(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const source = program.getSourceFile(file);
  return ts.getPreEmitDiagnostics(program, source).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n').pop() ?? '';
    if (d.file?.fileName !== file || d.start === undefined) return `type check: ${message}`;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    let index = 0;
    while (index + 1 < firstLine.length && firstLine[index + 1] <= line) index += 1;
    return `${describeManifest(manifests[index])}: ${textLines[line].trim()} ${message}`;
  });
}
