# Strait's container image: a static binary on a distroless base, run as
# a non-root user (65532, "nonroot") with nothing else in the image. The
# Deployment in deploy/ mounts no files and sets a read-only root
# filesystem; Strait writes nothing to disk.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t strait .

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
COPY examples ./examples
ARG VERSION=dev
# No cgo: the binary runs on an image without a C library.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/strait ./cmd/strait

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/strait /strait
USER 65532:65532
# HTTP, HTTPS, and health/metrics. Binding 80 and 443 as a non-root user
# needs the net.ipv4.ip_unprivileged_port_start sysctl (deploy/ sets it)
# or NET_BIND_SERVICE where the runtime grants it to non-root users.
EXPOSE 80 443 10254
ENTRYPOINT ["/strait"]
CMD ["serve"]
