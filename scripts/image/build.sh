#!/usr/bin/env bash
# npm run image: builds the Recon image from the Dockerfile with buildah, on a base made by debootstrap from
# Debian's mirror (scripts/image/base.sh), so that no container registry is needed. Tags it recon:<package.json
# version> (what deploy/base references) and recon:dev (deploy/overlays/local), in the machine's container
# storage (/var/lib/containers/storage, shared with podman). Takes several minutes the first time (debootstrap,
# npm ci, swc); later builds reuse the cached layers. Runs as root and installs buildah, debootstrap, and podman
# with runc (to run the image: scripts/image/run.sh) from Debian when they are missing.
# Environment: RECON_CODE_VERSION (default: scripts/image/code-version.sh, the git commit, -dirty if changed),
# RECON_BASE_IMAGE (default localhost/recon-base:trixie, made by base.sh; any debian:trixie-slim-like image
# works), NODE_EXTRA_CA_CERTS (default /etc/ssl/certs/ca-certificates.crt: CAs npm trusts during the build),
# RECON_IMAGE_ARCHIVE=<file.tar> also writes the image as an OCI archive (to copy to another machine).
# Each build keeps its untagged stage images as the layer cache; `podman image prune` frees them.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { echo "image: $*" >&2; }
fail() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root: buildah here builds with root's container storage (and installs from Debian)"

missing=()
for tool in buildah podman runc debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]} from Debian"
  flock /tmp/recon-apt.lock bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing[*]}" >/dev/null
fi

base_image="${RECON_BASE_IMAGE:-localhost/recon-base:trixie}"
if [ "$base_image" = localhost/recon-base:trixie ]; then RECON_BASE_IMAGE="$base_image" bash scripts/image/base.sh; fi

version=$(node -p 'require("./package.json").version')
image="localhost/recon:$version"
code_version="${RECON_CODE_VERSION:-$(bash scripts/image/code-version.sh)}"

# The machine's CA bundle, for npm inside the build when a TLS-inspecting proxy stands before the registry
# (a build secret: not stored in the image).
secrets=()
ca_file="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
if [ -r "$ca_file" ]; then secrets=(--secret "id=extra-ca-certificates,src=$ca_file"); fi

say "building $image (code version $code_version) on $base_image"
# chroot isolation: RUN steps need no OCI runtime or cgroups of their own (this machine has cgroup v1 and no
# systemd); the network is the host's, which reaches Debian's mirror and the npm registry.
buildah build \
  --isolation chroot \
  --layers \
  "${secrets[@]}" \
  --build-arg BASE_IMAGE="$base_image" \
  --build-arg RECON_CODE_VERSION="$code_version" \
  --tag "$image" \
  --tag localhost/recon:dev \
  --file Dockerfile \
  .

if [ -n "${RECON_IMAGE_ARCHIVE:-}" ]; then
  buildah push --quiet "$image" "oci-archive:$RECON_IMAGE_ARCHIVE:recon:$version"
  say "wrote $RECON_IMAGE_ARCHIVE"
fi
say "built $image and localhost/recon:dev ($(buildah images --format '{{.Size}}' "$image" | head -n1)); run it with: bash scripts/image/run.sh -e DATABASE_URL=… $image migrate"
