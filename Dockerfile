# One p2pnet node (a seed or a peer) per container; see compose.yaml and docs/operations.md.
#   docker build -t p2pnet .
#   docker run --rm p2pnet --help
FROM node:22-bookworm-slim

# Deno from npm, the same version as CI (.ci/run).
ARG DENO_VERSION=2.9.6
RUN npm install -g "deno@${DENO_VERSION}" && deno --version

ENV DENO_DIR=/opt/deno-cache DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
WORKDIR /opt/p2pnet
COPY deno.json deno.lock main.ts mod.ts ./
COPY lib ./lib

# The app, installed as the `p2pnet` command (as `deno task install` does), its npm
# packages cached in the image; then an unprivileged user to run it.
RUN deno install -g -f --root /usr/local --allow-net --allow-read --allow-write \
      --allow-env=NO_COLOR,P2PNET_KEY --v8-flags=--max-semi-space-size=4 \
      --name p2pnet --config deno.json main.ts \
 && deno cache --config deno.json main.ts \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin p2pnet \
 && mkdir -p /data /logs \
 && chown -R p2pnet:p2pnet /data /logs "$DENO_DIR"

USER p2pnet
# /data: the working directory, where a config.json is read from if one is mounted there.
# /logs: one log file per node.
WORKDIR /data
VOLUME ["/data", "/logs"]
EXPOSE 6001 7000

# SIGTERM (docker stop) makes a peer leave cleanly: it tells its seeds and neighbours.
STOPSIGNAL SIGTERM
ENTRYPOINT ["p2pnet"]
CMD ["peer", "--no-console", "--host", "0.0.0.0", "--port", "7000", "--log-dir", "/logs"]
