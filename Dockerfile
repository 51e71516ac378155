# The Recon image: one image for every service (`recon service <name>`), the migrations Job and the CLI.
# Build here with `npm run image` (scripts/image/build.sh: buildah, a debootstrap base, no registry needed);
# anywhere Docker Hub is reachable, `docker build --build-arg RECON_CODE_VERSION=$(git rev-parse --short=12 HEAD) .`
# Node.js 20 is Debian 13's nodejs package; the OpenBLAS matmul addon is built here and uses Debian's
# libopenblas0-pthread at run time.
ARG BASE_IMAGE=docker.io/library/debian:trixie-slim

# Node.js alone: the base of both the build and the runtime stages.
FROM ${BASE_IMAGE} AS node
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && node -e 'const [major, minor] = process.versions.node.split(".").map(Number); if (major < 20 || (major === 20 && minor < 19)) { console.error(`Node.js ${process.version} is older than the 20.19 package.json asks for`); process.exit(1); }'

# npm (Debian's), for the two stages that install packages; the runtime has none.
FROM node AS npm
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm \
  && rm -rf /var/lib/apt/lists/*

# Compiles the TypeScript (swc, as `npm run build` does) and the addon, with the development dependencies.
FROM npm AS build
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev libnode-dev \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts here: swc's compiler comes as an optional dependency and needs none. The optional secret
# extra-ca-certificates is a CA bundle for a TLS-inspecting proxy in front of the npm registry (build.sh passes
# the machine's); as a secret mount it never becomes part of a layer.
RUN --mount=type=secret,id=extra-ca-certificates \
  if [ -s /run/secrets/extra-ca-certificates ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra-ca-certificates; fi \
  && npm ci --ignore-scripts --no-audit --no-fund
COPY .swcrc tsconfig.json ./
COPY libs libs
COPY services services
COPY migrations migrations
COPY native native
# The CLI (apps/cli, compiled with the rest) and the run explorer (served by `recon api`: bundled by esbuild
# into dist/explorer, which the runtime copies with dist).
COPY apps apps
RUN npx swc apps/cli libs services migrations -d dist --only "**/*.ts" --ignore "**/*.spec.ts" -q \
  && node apps/explorer/build.js \
  && test -f dist/explorer/app.js \
  && rm -rf native/blas-matmul/build \
  && bash native/blas-matmul/build.sh \
  && test -f native/blas-matmul/build/blas_matmul.node

# The production dependencies only; install scripts run only for the packages package.json's allowScripts names
# (as npm 11 does on a developer's machine).
FROM npm AS production-dependencies
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=extra-ca-certificates \
  if [ -s /run/secrets/extra-ca-certificates ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra-ca-certificates; fi \
  && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && allowed=$(node -p 'Object.keys(require("./package.json").allowScripts ?? {}).join(" ")') \
  && if [ -n "$allowed" ]; then npm rebuild --foreground-scripts $allowed; fi \
  && npm cache clean --force

FROM node AS runtime
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libopenblas0-pthread \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --gid 1000 recon \
  && useradd --uid 1000 --gid 1000 --home-dir /var/lib/recon --no-create-home --shell /usr/sbin/nologin recon \
  && install -d -o 1000 -g 1000 /var/lib/recon /var/lib/recon/blobs
WORKDIR /app
COPY --from=production-dependencies /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY --from=build /src/native/blas-matmul/build/blas_matmul.node native/blas-matmul/build/blas_matmul.node
COPY package.json ./
COPY bin bin
COPY libs/experiment/presets libs/experiment/presets
# The code version recorded on every event (services and CLI): there is no git checkout in the image. Left
# empty, events record package-<package.json version>.
ARG RECON_CODE_VERSION=
ENV RECON_CODE_VERSION=${RECON_CODE_VERSION} \
  NODE_ENV=production \
  RECON_HOME=/var/lib/recon \
  RECON_BLOB_DIR=/var/lib/recon/blobs
LABEL org.opencontainers.image.title=recon \
  org.opencontainers.image.revision=${RECON_CODE_VERSION}
USER 1000:1000
ENTRYPOINT ["node", "bin/recon"]
CMD ["--help"]
