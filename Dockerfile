# taskman server image: `docker build -t taskman .`, then
#   docker run -d --name taskman -p 8080:8080 -v taskman-data:/var/lib/taskman taskman
# Details, environment and probes: docs/deployment.md.
#
# No `# syntax=` line and no `RUN --mount`: the file builds with the Dockerfile frontend
# built into BuildKit and with the legacy builder, and pulls no frontend image. Dependencies
# are cached as an image layer instead (step 1 below), rebuilt only when a manifest or
# Cargo.lock changes.
#
# The build and runtime stages use the same Debian release, so the binary's glibc matches.
ARG RUST_VERSION=1.95.0
ARG DEBIAN_RELEASE=bookworm

############################################################################## build
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
ENV CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0

# 1. Dependencies only: the manifests and the lock file, with stub targets in place of the
#    sources (and for each `[[bench]]` a manifest names, which must exist for it to load).
#    rusqlite's bundled SQLite is C: the rust image has the compiler.
COPY Cargo.toml Cargo.lock ./
COPY crates/core/Cargo.toml crates/core/
COPY crates/markdown/Cargo.toml crates/markdown/
COPY crates/store/Cargo.toml crates/store/
COPY crates/api/Cargo.toml crates/api/
COPY crates/cli/Cargo.toml crates/cli/
COPY crates/testkit/Cargo.toml crates/testkit/
RUN set -eux; \
    for c in core markdown store api testkit; do \
        mkdir -p "crates/$c/src"; : > "crates/$c/src/lib.rs"; \
    done; \
    mkdir -p crates/cli/src; echo 'fn main() {}' > crates/cli/src/main.rs; \
    for m in crates/*/Cargo.toml; do \
        d=${m%/Cargo.toml}; \
        sed -n '/^\[\[bench\]\]/,/^$/s/^name *= *"\(.*\)"/\1/p' "$m" | while read -r b; do \
            mkdir -p "$d/benches"; echo 'fn main() {}' > "$d/benches/$b.rs"; \
        done; \
    done; \
    cargo fetch --locked; \
    cargo build --release --locked --bin taskman; \
    rm -rf crates

# 2. The real sources. Their files may be older than the stub build's outputs (COPY keeps
#    the context's mtimes), so touch them: otherwise cargo could keep the stubs.
COPY crates crates
COPY tests/fixtures/seeds tests/fixtures/seeds
RUN set -eux; \
    find crates -name '*.rs' -exec touch {} +; \
    cargo build --release --locked --bin taskman; \
    install -D -m 0755 target/release/taskman /out/taskman; \
    /out/taskman --version | grep '^taskman '

############################################################################## runtime
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG UID=10001
ARG GID=10001

# A fixed, unprivileged UID/GID (not in the host's usual range), owning only the data
# directory. The binary links only libc, libm and libgcc_s: nothing to install.
RUN set -eux; \
    groupadd --system --gid "$GID" taskman; \
    useradd --system --uid "$UID" --gid "$GID" --home-dir /var/lib/taskman \
        --no-create-home --shell /usr/sbin/nologin taskman; \
    install -d -o "$UID" -g "$GID" -m 0750 /var/lib/taskman

COPY --from=build /out/taskman /usr/local/bin/taskman

# Listen on every interface of the container; the SQLite file in the volume. Any setting
# can be overridden with `-e` (docs/configuration.md has them all); a `postgres://` URL in
# TASKMAN_DATABASE_URL uses PostgreSQL instead and leaves the volume unused.
ENV TASKMAN_LISTEN=0.0.0.0:8080 \
    TASKMAN_DATABASE_URL=/var/lib/taskman/taskman.db \
    TASKMAN_LOG_FORMAT=json \
    HOME=/var/lib/taskman

VOLUME ["/var/lib/taskman"]
WORKDIR /var/lib/taskman
USER ${UID}:${GID}
EXPOSE 8080

# taskman stops accepting on SIGTERM and gives requests in flight up to 30 s
# (http.shutdown_grace_secs): give `docker stop` more than that, e.g. `docker stop -t 40`
# or `stop_grace_period: 40s` in compose.
STOPSIGNAL SIGTERM

# /health/live over bash's /dev/tcp: no curl or wget in the image (fewer packages, nothing
# fetched from a Debian mirror at build time). The port follows TASKMAN_LISTEN.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${TASKMAN_LISTEN##*:} && printf 'GET /health/live HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

ENTRYPOINT ["/usr/local/bin/taskman"]
CMD ["serve"]
