#!/usr/bin/env bash
# Makes the local base image for the Dockerfile's BASE_IMAGE when no container registry is reachable: a
# minimal Debian 13 (trixie) root file system made by debootstrap from Debian's mirror, committed with
# buildah as $RECON_BASE_IMAGE (default localhost/recon-base:trixie). It plays the part of
# debian:trixie-slim: apt sources for trixie, trixie-updates and trixie-security, no recommends, no docs.
# Skipped when the image already exists (RECON_BASE_REBUILD=1 makes it again). Needs root, debootstrap and
# buildah (scripts/image/build.sh installs them).
# Environment: RECON_BASE_IMAGE, RECON_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# RECON_DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
set -euo pipefail

base_image="${RECON_BASE_IMAGE:-localhost/recon-base:trixie}"
mirror="${RECON_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${RECON_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
suite=trixie

say() { echo "image-base: $*" >&2; }

if [ "${RECON_BASE_REBUILD:-}" != 1 ] && buildah inspect --type image "$base_image" >/dev/null 2>&1; then
  say "$base_image exists (RECON_BASE_REBUILD=1 makes it again)"
  exit 0
fi

work=$(mktemp -d /var/tmp/recon-base.XXXXXX)
container=""
cleanup() {
  if [ -n "$container" ]; then buildah rm "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

rootfs="$work/rootfs"
say "debootstrap --variant=minbase $suite from $mirror (a few minutes)"
if ! debootstrap --variant=minbase --include=ca-certificates "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 20 "$work/debootstrap.log" >&2
  say "debootstrap failed (log above)"
  exit 1
fi

# What the official slim image sets up: deb822 sources with security updates, no recommends, no docs.
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat >"$rootfs/etc/apt/apt.conf.d/90recon-image" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/90recon-image-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
# debootstrap installed before that configuration: drop what it would have excluded, and apt's caches.
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/* "$rootfs"/tmp/*
# Layers are compared by content: no clock or machine identity in the file system.
: >"$rootfs/etc/machine-id"

container=$(buildah from scratch)
mountpoint=$(buildah mount "$container")
tar -C "$rootfs" --numeric-owner -cf - . | tar -C "$mountpoint" --numeric-owner -xpf -
buildah umount "$container" >/dev/null
buildah config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env LANG=C.UTF-8 \
  --cmd /bin/bash \
  --label org.opencontainers.image.description="Debian $suite minbase (debootstrap from $mirror)" \
  "$container"
buildah commit --quiet --rm "$container" "$base_image" >/dev/null
container=""
say "made $base_image ($(buildah images --format '{{.Size}}' "$base_image" | head -n1))"
