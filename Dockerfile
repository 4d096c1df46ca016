# mentorflow's services in one image; the command picks the process:
#
#   docker build -t mentorflow:local .
#   docker run --rm mentorflow:local worker        # or relay, projector, api, cohort launch ...
#
# Builder: uv installs the locked dependencies (uv.lock, no dev group) and then the project,
# non-editable, into a virtualenv. Runtime: the same Python base with that virtualenv only (no
# uv, no sources, no caches), run as an unprivileged user.

ARG PYTHON_IMAGE=python:3.11.17-slim-trixie
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS builder
COPY --from=uv /uv /uvx /usr/local/bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/opt/mentorflow/venv
WORKDIR /src
# Dependencies first, in their own layer: rebuilt only when pyproject.toml or uv.lock change.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    uv sync --frozen --no-dev --no-install-project
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="mentorflow" \
      org.opencontainers.image.description="Event-sourced mentoring programs on Temporal, PostgreSQL and NATS JetStream"
RUN groupadd --system --gid 10001 mentorflow \
    && useradd --system --uid 10001 --gid mentorflow --home-dir /var/lib/mentorflow \
        --shell /usr/sbin/nologin mentorflow \
    && install -d -o mentorflow -g mentorflow -m 0750 /var/lib/mentorflow
# Owned by root: the service user can run the code but not change it.
COPY --from=builder /opt/mentorflow/venv /opt/mentorflow/venv
COPY docker/healthcheck.py /opt/mentorflow/healthcheck.py
ENV PATH="/opt/mentorflow/venv/bin:${PATH}" \
    VIRTUAL_ENV=/opt/mentorflow/venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MENTORFLOW_STATE_DIR=/var/lib/mentorflow \
    MENTORFLOW_LOG_FORMAT=json \
    MENTORFLOW_API_HOST=0.0.0.0
WORKDIR /var/lib/mentorflow
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["mentorflow"]
CMD ["--help"]
