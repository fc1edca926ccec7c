# syntax=docker/dockerfile:1
# Latchkey's headless server in a small image: the static binary built by
# scripts/build-static.sh (musl, the admin UI embedded) on an empty base. No shell, no libc,
# no package manager: the image is the binary.
#
#   scripts/build-static.sh && docker build -t latchkey .
#   export LATCHKEY_ADMIN_TOKEN=$(openssl rand -hex 16)   # admin UI: http://localhost:8000/admin/?access_token=$LATCHKEY_ADMIN_TOKEN
#   docker run --rm -p 127.0.0.1:8000:8000 -e LATCHKEY_ADMIN_TOKEN latchkey
#
# It listens on 0.0.0.0, so it refuses to start without LATCHKEY_ADMIN_TOKEN (16+ characters):
# the admin API must not be open to the network. Set LATCHKEY_ISSUER to the URL your apps use
# (http://latchkey:8000 in a compose network). See docs/testing.md.
FROM scratch
COPY target/static/latchkey /latchkey
COPY --chown=65534:65534 docker/data/ /data/
ENV LATCHKEY_BIND=0.0.0.0 \
    LATCHKEY_PORT=8000 \
    LATCHKEY_DB=/data/latchkey.db
USER 65534:65534
WORKDIR /data
EXPOSE 8000
# `latchkey healthcheck` asks 127.0.0.1:$LATCHKEY_PORT for the discovery document (under the
# path of $LATCHKEY_ISSUER, if it has one): there is no curl in the image.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 CMD ["/latchkey", "healthcheck"]
ENTRYPOINT ["/latchkey"]
CMD ["serve"]
