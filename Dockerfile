# syntax=docker/dockerfile:1
#
# Triggers: one image, every role. `docker run IMAGE <role>` with role one of
#   ingest | matcher | deliverer | inbox | controller | all      (default: all, the embedded mode)
# (docker/entrypoint.sh; the chart sets the role per Deployment).
#
#   docker build -t triggers:dev .
#   docker run --rm -p 8080:8080 --read-only --tmpfs /tmp -v triggers-data:/data triggers:dev all
#
# Choices, and why:
# - Production runs esbuild bundles (docker/bundle.mjs: only @triggers/* workspace code is bundled,
#   every npm package stays external in a `npm ci --omit=dev` node_modules), not TypeScript through
#   tsx. tsx is a dev dependency here; keeping it would put esbuild's native binary and a loader
#   in production, and it transpiles every module on each start (its cache lives in /tmp, an
#   emptyDir that starts empty in every new pod). Measured on the shared 2-core VM while another
#   build ran (load ~5; Node 20.20.2; ingest role on SQLite; spawn to the first /health 200, RSS
#   0.5 s later; 5 runs each, medians): bundle 653-774 ms and 108 MB RSS; tsx 983 ms and 113 MB
#   with a warm transform cache, 1,081 ms and 126 MB with TSX_DISABLE_CACHE=1. A modest gain, but
#   free, and the image then needs no dev dependency at all (docs/kubernetes.md, "The image").
# - Base: the official Node 20 Debian slim image, pinned by its full version tag (update it
#   deliberately; a digest pin would be stricter still).
# - better-sqlite3 is a native module: the stages that run `npm ci` have python3, make and g++
#   for the case where no prebuilt binary matches; the final stage has no compiler.
# - PID 1 is tini (Debian package): it forwards signals and reaps zombies, like `docker run --init`.
# - Non-root (uid/gid 1000, the base image's `node` user) and read-only root filesystem friendly:
#   the only writable paths a role needs are TRIGGERS_DATA_DIR (/data: SQLite files, the generated
#   admin token; mount a volume) and /tmp (mount an emptyDir/tmpfs).
# - No HEALTHCHECK: Kubernetes probes /health (liveness) and /ready (readiness) itself.

ARG NODE_IMAGE=node:20.20.0-bookworm-slim

# --- manifests: only package.json files and the lockfile, so the dependency layers below are
#     rebuilt only when dependencies change (every workspace listed in the root package.json).
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /manifests \
 && node -e 'const fs=require("fs"),p=require("path");const root=require("./package.json");for(const f of ["package.json","package-lock.json",...root.workspaces.map((w)=>p.join(w,"package.json"))]){fs.mkdirSync(p.join("/manifests",p.dirname(f)),{recursive:true});fs.copyFileSync(f,p.join("/manifests",f));}'

# --- build: every dependency (dev included), the console with Vite, the role bundles with esbuild.
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY --from=manifests /manifests/ ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build -w console \
 && node docker/bundle.mjs --out /src/dist

# --- production dependencies: `npm ci --omit=dev` (what the bundles import, checked by bundle.mjs).
FROM ${NODE_IMAGE} AS prod-deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data \
 && chown 1000:1000 /data
ENV NODE_ENV=production \
    PORT=8080 \
    TRIGGERS_HOST=0.0.0.0 \
    TRIGGERS_DATA_DIR=/data
WORKDIR /app
COPY --from=prod-deps /app/package.json ./package.json
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY docker/entrypoint.sh ./docker/entrypoint.sh
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "/app/docker/entrypoint.sh"]
CMD ["all"]
