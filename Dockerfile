# The control-plane image: broker, proxy, workers and pool controller (charts/ventus runs each with
# `node --import tsx <process>/main.ts` from /app). Browsers run in the runtime image
# (runtime-image/Dockerfile), one Pod each. Build from the repository root:
#   docker build -t ventus/control-plane:0.1.0 .
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    # tsx caches compiled files under TMPDIR; the chart mounts an emptyDir at /tmp.
    TMPDIR=/tmp

WORKDIR /app
COPY package.json package-lock.json ./
# Dev dependencies stay: tsx runs the TypeScript sources directly (no build step), and npm 11
# runs install scripts only for the packages package.json allows.
RUN npm install --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY broker ./broker
COPY cli ./cli
COPY core ./core
COPY migrations ./migrations
COPY pool-controller ./pool-controller
COPY proxy ./proxy
# The agent protocol (its header, secrets, messages) the control plane shares with the pods.
COPY runtime-image/agent ./runtime-image/agent
COPY stack ./stack
COPY workers ./workers
COPY tsconfig.json ./

RUN groupadd --gid 10001 ventus && useradd --uid 10001 --gid ventus --no-create-home ventus
USER 10001:10001
EXPOSE 8080 9465 9466
# Each Deployment sets its own command; `ventus up` (all in one) is the default for a quick try.
CMD ["node", "bin/ventus.js", "up"]
