# One image for the four services; docker-compose.yml picks the service with `python -m <service>`.
FROM python:3.12.8-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir "uv==0.13.9" && useradd --system --uid 10001 --home-dir /app lianxin

WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY shared shared
COPY services services
COPY src src
COPY deploy deploy
RUN uv sync --frozen --no-dev --all-packages && chown -R lianxin /app

ENV PATH=/opt/venv/bin:$PATH JETSTREAM_CONFIG=/app/deploy/nats/jetstream.json
USER lianxin
EXPOSE 8101 8102 8103 8104
CMD ["python", "-m", "registry"]
