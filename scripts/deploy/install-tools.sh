#!/usr/bin/env bash
# What test/deploy needs besides npm packages: kubectl with its built-in kustomize (5.x: components,
# labels) to build the overlays, and the Strimzi CRD schemas (fetch-schemas.sh: Maven and Java 21+).
# Safe to run again. kubectl is part of this machine image (Google's kubectl package); Debian's
# kubernetes-client is too old (kustomize 2), so a missing kubectl is reported, not installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v kubectl >/dev/null; then
  echo "install-tools: kubectl not found; install kubectl 1.27 or later (it builds the overlays with 'kubectl kustomize')" >&2
  exit 1
fi
kustomize_version=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v//p')
if [ -z "$kustomize_version" ] || [ "${kustomize_version%%.*}" -lt 5 ]; then
  echo "install-tools: kubectl's kustomize is '${kustomize_version:-unknown}'; deploy/ needs kustomize 5 (kubectl 1.27 or later)" >&2
  exit 1
fi
bash scripts/deploy/fetch-schemas.sh
