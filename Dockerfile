# siphon-deno: build the single executable, ship it on a slim glibc image.
# Build: docker build -t siphon-deno .   Run: mount a folder with http.yaml + the script at
# /etc/siphon (config path: /etc/siphon/http.yaml); the server listens where http.yaml says
# (8080 for the app, 9091 for /healthz /readyz /metrics; bind 0.0.0.0 inside a container).
# Descriptors: every connection takes one and an image cannot set the limit, so run with
# `--ulimit nofile=1048576:1048576` (the server raises its soft limit to the hard one; running out
# is survived, not prevented: docs/deployment.md, "Limits and hostile clients").

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY main.ts ./
COPY src ./src
COPY workers ./workers
RUN npx -y deno@2.9.6 install --frozen \
 && npx -y deno@2.9.6 task compile

FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/siphon siphon \
 && mkdir -p /etc/siphon && chown siphon /etc/siphon
COPY --from=build /src/dist/siphon-deno /usr/local/bin/siphon-deno
# Python packages (docs/packages.md): the wheels your script's python.packages come from, copied in
# at build time; point http.yaml at them with `python.wheelhouse: /opt/siphon/wheels`.
ARG WHEELHOUSE=deploy/wheelhouse
COPY ${WHEELHOUSE} /opt/siphon/wheels
# Workers keep ~60 MiB each only with this glibc tunable (README, "Performance").
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072 \
    SIPHON_CACHE_DIR=/var/lib/siphon/cache
USER 10001
WORKDIR /etc/siphon
EXPOSE 8080 9091
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD ["/usr/local/bin/siphon-deno", "health", "--url", "http://127.0.0.1:9091/healthz"]
ENTRYPOINT ["/usr/local/bin/siphon-deno"]
CMD ["serve", "--config", "/etc/siphon/http.yaml"]
