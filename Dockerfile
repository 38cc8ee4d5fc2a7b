# The control-plane image: broker, proxy, workers and pool controller (charts/ventus runs each with
# `node --enable-source-maps dist/<process>.mjs` from /app). Browsers run in the runtime image
# (runtime-image/Dockerfile), one Pod each. Build from the repository root:
#   docker build -t ventus/control-plane:0.1.0 .

# Build stage: every dependency and the sources; `npm run build` (scripts/build.mjs) writes dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /src
# The proxy's kernel relay (runtime-image/agent/kernel-relay.c, dist/kernel-relay) is C.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.mjs ./scripts/build.mjs
COPY broker ./broker
COPY cli ./cli
COPY core ./core
# `ventus load`'s harness (imported lazily, from a checkout); the bundle needs it to resolve.
COPY load-tests ./load-tests
COPY pool-controller ./pool-controller
COPY proxy ./proxy
# The pod agent (dist/pod-agent.mjs) and the protocol the control plane shares with it.
COPY runtime-image/agent ./runtime-image/agent
COPY stack ./stack
COPY workers ./workers
RUN npm run build

# The image: the built programs on their production dependencies. No TypeScript sources, no
# transpiler, no dev dependencies (test/charts/control-plane-image.test.ts checks this file).
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
# `node bin/ventus.js …` (kubectl exec): it runs dist/cli.mjs.
COPY bin ./bin
# What the programs read at run time, at the paths their sources name (scripts/build.mjs, "source-urls").
COPY migrations ./migrations
COPY core/redis/lua ./core/redis/lua
COPY broker/dashboard/public ./broker/dashboard/public

RUN groupadd --gid 10001 ventus && useradd --uid 10001 --gid ventus --no-create-home ventus
USER 10001:10001
EXPOSE 8080 9465 9466
# Each Deployment sets its own command; `ventus up` (all in one) is the default for a quick try.
CMD ["node", "--enable-source-maps", "dist/cli.mjs", "up"]
