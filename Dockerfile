# syntax=docker/dockerfile:1
#
# graphsvc container image.
#
#   docker build -t graphsvc .
#   docker run --rm -p 127.0.0.1:8000:8000 -v graphsvc-data:/data graphsvc
#
# Without GRAPHSVC_NEO4J_URI the embedded store is used, kept in /data (a volume).
# With GRAPHSVC_NEO4J_URI (+ _USER, _PASSWORD) Neo4j is the store: see docker-compose.yml.

# ---- build: turn the source tree into one wheel (cypher/ is force-included by hatch) ----
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
# What goes into the build context is limited by .dockerignore.
COPY . .
RUN pip wheel . --no-deps -w /wheels


# ---- runtime: the wheel and its dependencies, run as a non-root user ----
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    GRAPHSVC_DATA_DIR=/data

# The wheel is bind-mounted from the build stage, so it never lands in an image layer.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install /wheels/*.whl

RUN groupadd --system --gid 10001 graphsvc \
    && useradd --system --uid 10001 --gid graphsvc --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin graphsvc \
    && mkdir -p /data \
    && chown graphsvc:graphsvc /data

USER graphsvc
WORKDIR /data
VOLUME ["/data"]

EXPOSE 8000

# slim has no curl: ask /health with Python's urllib (any HTTP error or refusal -> unhealthy).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

# The HTTP API; GRAPHSVC_WORKERS sets its worker processes. One-off commands run the same
# image: `docker run --rm -v "$PWD/bundle:/bundle:ro" graphsvc graphsvc import /bundle`.
CMD ["graphsvc", "serve", "--host", "0.0.0.0", "--port", "8000"]
