# syntax=docker/dockerfile:1
# The bridge as a static binary on distroless: no shell or package manager to patch, runs as nonroot.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that source edits do not invalidate the download layer.
COPY go.mod go.sum ./
# go.mod replaces asn1-ber and go-ldap with the patched copies there
# (internal/third_party/asn1-ber/PATCHES.md, internal/third_party/ldap/PATCHES.md).
COPY internal/third_party ./internal/third_party
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/scimbridge ./cmd/scimbridge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/scimbridge /scimbridge
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/scimbridge"]
CMD ["serve", "--config", "/etc/scimbridge/config.yaml"]
