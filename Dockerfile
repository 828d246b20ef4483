# Wharf in a container: the same install the packaging test proves (test/install/package.test.ts) — `npm pack`
# in a build stage, then a production-only install of the tarball. Build tools stay in the build stage, so the
# image also gets the compiled zstd-napi; without it Wharf would still decode zstd (see src/record/zstd/).
#   docker build -t wharf .
#   docker run -p 9092:9092 -p 5672:5672 -p 1883:1883 -p 8080:8080 -v wharf-data:/data wharf
# Bound to 0.0.0.0, Wharf refuses to start without a user who can log in from the network: pass
# WHARF_USERS='[{"name":"admin","password":"…","tags":["administrator"]}]' (README, Security), and set
# WHARF_KAFKA_ADVERTISED_HOST to the name Kafka clients reach the container by.
# The current LTS line; the packaged broker is tested on it and on Node 20 (test/install/package.test.ts).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build && npm pack --pack-destination /tmp && mv /tmp/wharf-broker-*.tgz /tmp/wharf-broker.tgz
WORKDIR /opt/wharf
RUN npm install --omit=dev --no-audit --no-fund /tmp/wharf-broker.tgz

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    WHARF_DATA_DIR=/data \
    WHARF_HOST=0.0.0.0
COPY --from=build /opt/wharf /opt/wharf
RUN ln -s /opt/wharf/node_modules/.bin/wharf /usr/local/bin/wharf \
 && mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 9092 5672 1883 8080
# curl is not in the slim image; node's fetch is. /readyz is public unless publicMetrics is false.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.WHARF_HTTP_PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The broker is PID 1 (the wharf script execs node): `docker stop` sends it SIGTERM, and it closes the data directory
# cleanly before exiting; `docker stop -t 30` gives a large one more time than the default 10 s.
ENTRYPOINT ["wharf"]
CMD ["start"]
