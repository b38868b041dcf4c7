# syntax=docker/dockerfile:1
#
# xacct in a container, for CI systems that prefer images to installers
# (docs/install.md). Two stages: the release build, then a distroless image that
# holds /usr/local/bin/xacct and nothing else of this repository: no shell, no
# package manager, no terraform (run `terraform show -json` in its own step and
# give the plan to `xacct audit --plan`), and a non-root user.
#
#   docker build -t xacct .
#   docker run --rm -v "$PWD:/work" xacct audit --env environments/dev.toml
#
# tests/xacct/release.rs builds this file where a Docker engine answers and lints it
# with hadolint otherwise.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The registry and target caches stay out of the layers; the binary is copied out
# of the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p xacct \
    && install -m 0755 target/release/xacct /xacct

# glibc, CA certificates (the AWS SDK's TLS) and /etc/passwd with `nonroot`.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /xacct /usr/local/bin/xacct
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/xacct"]
CMD ["--help"]
