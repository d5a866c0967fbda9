# syntax=docker/dockerfile:1

# ---- build: a static Go binary (no cgo), so the final image needs no libc.
FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0
# Modules get their own layer, rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -ldflags="-s -w" -o /out/breachnotice ./cmd/breachnotice

# ---- run: distroless/static has CA certificates and tzdata but no shell;
# migrations are embedded in the binary (migrations/embed.go).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/breachnotice /breachnotice
USER nonroot:nonroot
ENV HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/breachnotice"]
CMD ["serve"]
