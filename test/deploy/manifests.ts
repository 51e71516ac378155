import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

/** One object of a built overlay, as kustomize printed it. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** `group/version kind name`, how errors and inventories name an object. */
export function describeManifest(m: Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>): string {
  return `${m.apiVersion} ${m.kind} ${m.metadata?.name ?? '(no name)'}`;
}

/** Builds a kustomization with kubectl's built-in kustomize and returns its objects in output order. */
export function buildKustomization(dir: string): Manifest[] {
  let output: string;
  try {
    output = execFileSync('kubectl', ['kustomize', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('kubectl not found: run scripts/deploy/install-tools.sh');
    throw new Error(`kubectl kustomize ${dir} failed: ${e.stderr?.trim() || e.message}`);
  }
  return parseAllDocuments(output).map((doc, index) => {
    if (doc.errors.length > 0) throw new Error(`${dir}: document ${index}: ${doc.errors[0].message}`);
    const value = doc.toJS() as Partial<Manifest> | null;
    if (!value?.apiVersion || !value.kind || !value.metadata?.name)
      throw new Error(`${dir}: document ${index} lacks apiVersion, kind or metadata.name`);
    return value as Manifest;
  });
}
