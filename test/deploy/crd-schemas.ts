import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { describeManifest, type Manifest } from './manifests';

type Schema = Record<string, unknown>;

interface CrdVersion {
  name: string;
  served?: boolean;
  schema?: { openAPIV3Schema?: Schema };
}

interface Crd {
  kind: 'CustomResourceDefinition';
  spec: { group: string; names: { kind: string }; versions: CrdVersion[] };
}

/**
 * What `kubectl apply` (strict field validation) and kubeconform's strict mode do: an object schema that
 * lists its properties and does not preserve unknown fields rejects any other field.
 */
export function rejectUnknownFields(schema: Schema): Schema {
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && value && typeof value === 'object') {
      copy.properties = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([name, sub]) => [
          name,
          rejectUnknownFields(sub),
        ]),
      );
    } else if (['items', 'additionalProperties', 'not'].includes(key) && value && typeof value === 'object') {
      copy[key] = rejectUnknownFields(value as Schema);
    } else if (['allOf', 'anyOf', 'oneOf'].includes(key) && Array.isArray(value)) {
      copy[key] = value.map((sub: Schema) => rejectUnknownFields(sub));
    } else {
      copy[key] = value;
    }
  }
  const preserves = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (schema.properties && !('additionalProperties' in schema) && !preserves)
    copy.additionalProperties = false;
  return copy;
}

function yamlFilesUnder(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.sort().flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFilesUnder(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = e.instancePath || '/';
    if (e.keyword === 'additionalProperties')
      return `${where}: unknown field '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    return `${where}: ${e.message}`;
  });
}

/**
 * Validators for custom resources from CRD files (apiextensions.k8s.io/v1), keyed by apiVersion and kind.
 * Directories are read in order, so a CRD in a later directory replaces an earlier one of the same kind.
 */
export class CrdSchemas {
  private readonly schemas = new Map<string, { source: string; schema: Schema }>();
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false });

  constructor(dirs: string[]) {
    for (const file of dirs.flatMap(yamlFilesUnder)) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        const crd = doc.toJS() as Crd | null;
        if (crd?.kind !== 'CustomResourceDefinition') continue;
        for (const version of crd.spec.versions) {
          const schema = version.schema?.openAPIV3Schema;
          if (version.served === false || !schema) continue;
          this.schemas.set(`${crd.spec.group}/${version.name} ${crd.spec.names.kind}`, {
            source: file,
            schema,
          });
        }
      }
    }
  }

  /** `group/version Kind` of every custom resource this holds a schema for. */
  kinds(): string[] {
    return [...this.schemas.keys()].sort();
  }

  has(m: Pick<Manifest, 'apiVersion' | 'kind'>): boolean {
    return this.schemas.has(`${m.apiVersion} ${m.kind}`);
  }

  /** The CRD file the object's schema came from. */
  sourceOf(m: Pick<Manifest, 'apiVersion' | 'kind'>): string | undefined {
    return this.schemas.get(`${m.apiVersion} ${m.kind}`)?.source;
  }

  /** The problems of one object, each naming the object and the path; empty when valid. */
  validate(m: Manifest): string[] {
    const key = `${m.apiVersion} ${m.kind}`;
    const entry = this.schemas.get(key);
    if (!entry) throw new Error(`no CRD schema for ${key}`);
    let check = this.compiled.get(key);
    if (!check) {
      // metadata is validated against ObjectMeta elsewhere; the CRD schemas only say `type: object`.
      check = this.ajv.compile(rejectUnknownFields(entry.schema));
      this.compiled.set(key, check);
    }
    return check(m) ? [] : formatErrors(check.errors).map((e) => `${describeManifest(m)}: ${e}`);
  }
}
