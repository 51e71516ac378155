#!/usr/bin/env bash
# One-time set-up of a fresh machine: system packages the tests and benchmarks need, the npm
# dependencies (exactly as locked) and the build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# gcc/libc6-dev build native/blas-matmul (OpenBLAS matmuls for the policy; Node's headers come with nodejs).
# chromium: the run explorer's browser suite (test/explorer, playwright-core drives it).
apt_packages=(python3-torch libopenblas0-pthread prometheus gcc libc6-dev chromium)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]} from Debian"
    flock /tmp/recon-apt.lock bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing[*]}" >/dev/null
  else
    echo "setup: not root, skipping Debian packages ${missing[*]} (the PyTorch reference tests and baselines will be skipped)"
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build   # also builds native/blas-matmul (a failure there leaves the policy on plain wasm)
# The Apache Kafka broker's jars (Maven Central, pinned in scripts/kafka/pom.xml); cached in .kafka/libs.
bash scripts/kafka/kafka.sh fetch
# kubectl's kustomize and the Strimzi CRD schemas for test/deploy (cached in test/deploy/.schemas).
bash scripts/deploy/install-tools.sh || echo "setup: the deploy tools are missing (see above); test/deploy cannot pass here"
echo "setup: done"
