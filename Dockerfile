# syntax=docker/dockerfile:1
#
# tus-edge: one build, two runtime targets from the same layers (see deploy/README.md, "Image layout"):
#   docker build --target processors -t tus-edge-processors .   # processor workers, with Debian's ffmpeg
#   docker build -t tus-edge .                                   # the server (default: the last stage)
# The server target carries no ffmpeg (~170 MB less on every upload node); run processors in their own
# containers (NATS_URL set), which is what compose and Kubernetes here do.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: every workspace with its dev dependencies, compiled by tsc -------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY . .
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && npx tsc -b server processors \
 # The browser SDK bundle and demo page the server serves at /sdk/ and /demo/ (esbuild, a dev dependency).
 && npm run build -w @tus-edge/client-sdk \
 # What ships is the runtime code only: tests and contract suites are not compiled (tsconfig excludes
 # them; the test kit and the benchmark are workspaces of their own). Fail the build if that changes.
 && test -z "$(find server/dist processors/dist -name '*.test.*' -o -name '*.contract.*' -o -name '*.fixture.*')"

# ---- deps: production dependencies of the runtime workspaces only -------------------------------------
# The server serves the SDK package's built bundle and demo page, so that workspace stays (its one
# production dependency, tus-js-client, comes along); the dev-only workspaces (tests/kit, loadtests/bench)
# are dropped from the manifest, so npm ci neither links nor installs them.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY processors/package.json processors/
COPY client-sdk/package.json client-sdk/
RUN node -e "const fs=require('fs');const p=JSON.parse(fs.readFileSync('package.json'));p.workspaces=['server','processors','client-sdk'];delete p.devDependencies;delete p.scripts;fs.writeFileSync('package.json',JSON.stringify(p,null,2))" \
 && npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && npm cache clean --force

# ---- runtime base: tini as PID 1 (forwards SIGTERM so the node drains), non-root user ------------------
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="tus-edge" \
      org.opencontainers.image.description="Resumable-upload edge server speaking tus 1.0, with a processing pipeline" \
      org.opencontainers.image.source="https://example.invalid/tus-edge" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    DATA_DIR=/data \
    TMPDIR=/data/tmp
WORKDIR /app
COPY --from=deps /app/package.json /app/package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/server/package.json ./server/
COPY --from=deps /app/processors/package.json ./processors/
COPY --from=deps /app/client-sdk/package.json ./client-sdk/
COPY --from=build /src/server/dist ./server/dist
COPY --from=build /src/processors/dist ./processors/dist
COPY --from=build /src/processors/prompts ./processors/prompts
COPY --from=build /src/client-sdk/dist/tus-edge.mjs ./client-sdk/dist/tus-edge.mjs
COPY --from=build /src/client-sdk/demo ./client-sdk/demo
# The operator page /admin/ (plain HTML, JS and CSS, served as they are).
COPY --from=build /src/server/public ./server/public
# The image's "node" user (uid 1000) owns only the data directory; the code stays read-only to it.
RUN mkdir -p /data/tmp && chown -R node:node /data
VOLUME ["/data"]
ENTRYPOINT ["/usr/bin/tini", "--"]

# ---- processors: the worker, with Debian's ffmpeg/ffprobe for the video processor ----------------------
FROM runtime AS processors
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*
ENV PROCESSORS_PORT=1081
USER node
EXPOSE 1081
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PROCESSORS_PORT||1081)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "processors/dist/main.js"]

# ---- server: the tus endpoint (the default target) -----------------------------------------------------
FROM runtime AS server
ENV PORT=1080
USER node
EXPOSE 1080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||1080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "server/dist/main.js"]
