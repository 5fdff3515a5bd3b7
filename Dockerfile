# breakerlab in a container: one static binary, nothing else.
#
# No builder stage: the binary is built on the host first, so building the
# image never pulls anything. `make image` does both steps:
#
#   CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=$VERSION" \
#       -o bin/image/breakerlab ./cmd/breakerlab
#   docker build --build-arg VERSION=$VERSION -t breakerlab:dev .
#
# .dockerignore keeps the context to that binary and the data directory.
FROM scratch

ARG VERSION=dev
LABEL org.opencontainers.image.title="breakerlab" \
      org.opencontainers.image.description="Chaos-testing and load-simulation harness for circuit breakers: fake HubSpot, Lemlist, Explorium, n8n and Postgres servers on a scripted fault timeline" \
      org.opencontainers.image.source="https://github.com/breakerlab/breakerlab" \
      org.opencontainers.image.url="https://github.com/breakerlab/breakerlab" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="scratch"

COPY bin/image/breakerlab /breakerlab
# Scratch has no writable directory of its own. /data holds the default SQLite
# run store ($XDG_DATA_HOME) and report directories; /tmp is where SQLite and
# the Go runtime put temporary files.
COPY --chown=65532:65532 deploy/image/data /data
COPY --chown=65532:65532 deploy/image/data /tmp
ENV HOME=/data \
    XDG_DATA_HOME=/data \
    TMPDIR=/tmp

USER 65532:65532
WORKDIR /data
# serve's default port and the control API port the testcontainer module uses;
# the fakes listen wherever --listen puts them.
EXPOSE 8080
ENTRYPOINT ["/breakerlab"]
CMD ["help"]
