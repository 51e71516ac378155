#!/usr/bin/env bash
# Prints the code version an image built from this work tree records on its events: the git commit (12 hex
# digits, as `recon` reports it in a checkout), with "-dirty" when the files the image is built from (the
# paths .dockerignore lets through) have changes or new files not in that commit; outside a git checkout,
# package-<package.json version>.
set -euo pipefail
cd "$(dirname "$0")/../.."

if commit=$(git rev-parse --short=12 HEAD 2>/dev/null); then
  if [ -n "$(git status --porcelain -- package.json package-lock.json .swcrc tsconfig.json bin libs services migrations native 2>/dev/null)" ]; then commit="$commit-dirty"; fi
  echo "$commit"
else
  echo "package-$(node -p 'require("./package.json").version')"
fi
