# syntax=docker/dockerfile:1.7
# One image for every role: api | code-server | daemon | webserver | migrate (see deploy/docker/entrypoint.sh).

# ---- build: wheels for the project and its dependencies
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config libtesseract-dev libleptonica-dev \
 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY timetable_platform ./timetable_platform
# tesserocr built against Debian's Tesseract, the one the runtime stage installs (its wheel bundles another).
RUN pip wheel --no-binary tesserocr --wheel-dir /wheels .

# ---- runtime: slim, Tesseract with the language packs the day parser knows, non-root
FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/home TIMETABLE_DATA_DIR=/var/lib/timetable
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra \
      tesseract-ocr-spa tesseract-ocr-ita tesseract-ocr-nld tesseract-ocr-por libglib2.0-0 curl tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels timetable-platform==0.1.0 && rm -rf /wheels
RUN groupadd --system --gid 10001 timetable \
 && useradd --system --uid 10001 --gid timetable --home-dir /opt/dagster --shell /usr/sbin/nologin timetable \
 && mkdir -p /opt/dagster/home /opt/dagster/app /var/lib/timetable \
 && chown -R timetable:timetable /opt/dagster /var/lib/timetable
WORKDIR /opt/dagster/app
COPY --chown=timetable:timetable dagster.yaml /opt/dagster/home/dagster.yaml
COPY --chown=timetable:timetable workspace.yaml ./workspace.yaml
COPY --chown=timetable:timetable deploy/docker/entrypoint.sh /usr/local/bin/timetable-entrypoint
USER 10001:10001
EXPOSE 8000 3000 4000
# The API answers /health; other roles override the check in their orchestrator (compose, ECS, K8s).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["curl", "-fsS", "http://127.0.0.1:8000/health"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/timetable-entrypoint"]
CMD ["api"]
