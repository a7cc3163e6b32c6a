# Small, non-root, health-checked image (docs/ARCHITECTURE.md; the worker writes the heartbeat).
# Build: docker build -t animate-bot .   Run: docker run --env-file .env -v animate-data:/data animate-bot
FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
# Exactly the pinned, hashed runtime set that CI tested (requirements-dev.lock is a superset of the
# same pins); the project itself goes in without letting pip resolve anything else.
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY core ./core
COPY providers ./providers
COPY storage ./storage
COPY emulator ./emulator
COPY slackapp ./slackapp
COPY playground ./playground
RUN /opt/venv/bin/pip install --no-deps .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 animate && mkdir /data && chown animate /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/data/animate.db
# Run from an empty, root-owned directory: a relative path anywhere (FFmpeg's playlists, a
# misconfigured setting) finds nothing to read and no place to write.
WORKDIR /srv/empty
USER animate
VOLUME ["/data"]
# The delivery loop touches a heartbeat file next to the database after every pass that worked;
# the check also queries the database (read-only): `animate-bot health`.
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
    CMD ["animate-bot", "health"]
# SIGTERM: the work in flight finishes within STOP_GRACE_SECONDS (20 by default): give
# `docker stop -t` more than that (docker-compose.yml: stop_grace_period)
STOPSIGNAL SIGTERM
CMD ["animate-bot", "run"]
