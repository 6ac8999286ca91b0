# pipectl as a container image: a static binary (no cgo) on a small base with a shell for the
# Kubernetes hooks (deploy/k8s). Data — jobs, state directories, checkpoints and savepoints —
# lives under PIPECTL_HOME=/data, a volume.
#   docker build -t pipectl .
#   docker run -v pipectl-data:/data -v "$PWD/examples:/pipelines:ro" pipectl run /pipelines/motion-alarm.yaml
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/pipectl ./cmd/pipectl

FROM alpine:3.21
RUN addgroup -S -g 10001 pipectl && adduser -S -u 10001 -G pipectl -h /data pipectl \
    && mkdir -p /data && chown pipectl:pipectl /data
COPY --from=build /out/pipectl /usr/local/bin/pipectl
ENV PIPECTL_HOME=/data
VOLUME ["/data"]
USER pipectl
WORKDIR /data
# SIGTERM (docker stop) keeps a last checkpoint when the pipeline checkpoints; give it time:
# docker stop -t 60.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/pipectl"]
CMD ["--help"]
