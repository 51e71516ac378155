#!/usr/bin/env bash
# Runs a container with podman on the host network, with what this kind of machine needs:
#   bash scripts/image/run.sh [podman run options] IMAGE [recon arguments]
# e.g. bash scripts/image/run.sh -e DATABASE_URL=postgres://postgres@127.0.0.1:5432/recon localhost/recon:0.1.0 migrate
# - runc instead of crun where cgroup v1 and v2 are mounted side by side (crun refuses "hybrid mode");
# - limits no higher than this process may set: podman asks for 1048576 open files and lowers its own process
#   limit to 32768 before it starts the runtime, and raising a hard limit is not permitted in some sandboxes.
# RECON_PODMAN_RUNTIME overrides the runtime.
set -euo pipefail

runtime="${RECON_PODMAN_RUNTIME:-}"
if [ -z "$runtime" ] && [ -f /sys/fs/cgroup/unified/cgroup.controllers ] && command -v runc >/dev/null; then
  runtime=runc
fi
open_files=$(ulimit -Hn)
processes=$(ulimit -Hu)
if [ "$processes" = unlimited ] || [ "$processes" -gt 32768 ]; then processes=32768; fi

args=(run --rm --network host --ulimit "nofile=$open_files:$open_files" --ulimit "nproc=$processes:$processes")
if [ -n "$runtime" ]; then args=(--runtime "$runtime" "${args[@]}"); fi
exec podman "${args[@]}" "$@"
