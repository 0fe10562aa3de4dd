# milly in a container: a build stage with the Rust toolchain, then a small Debian runtime with
# only the binary and CA certificates, run as an unprivileged user. See README.md, "Deploy"
# and contrib/compose.yaml (with PostgreSQL).
#
#   docker build --build-arg MILLY_BUILD_COMMIT=$(git rev-parse --short=12 HEAD) -t milly .

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The context has no .git: the commit comes in as an argument (`milly version`, /healthz).
ARG MILLY_BUILD_COMMIT=unknown
ENV MILLY_BUILD_COMMIT=${MILLY_BUILD_COMMIT}
RUN cargo build --release --locked -p milly \
    && install -m 0755 target/release/milly /usr/local/bin/milly

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/milly \
        --shell /usr/sbin/nologin milly \
    && install -d -o milly -g milly -m 0700 /var/lib/milly
COPY --from=build /usr/local/bin/milly /usr/local/bin/milly
USER milly
WORKDIR /var/lib/milly
# Data (SQLite, keys, certificates, backups) on a volume; the configuration comes mounted at
# /etc/milly/milly.toml (readable by uid 10001), every key overridable by MILLY_* variables.
ENV MILLY_SERVICE__DATA_DIR=/var/lib/milly
VOLUME ["/var/lib/milly"]
# 443: the VLESS node; 80 and 8443: the website (ACME's challenge and redirect, and HTTPS) or
# 8080 behind your own proxy. Docker lets containers bind ports below 1024 as any user.
EXPOSE 80 443 8080 8443
ENTRYPOINT ["/usr/local/bin/milly"]
CMD ["serve", "--config", "/etc/milly/milly.toml"]
