# Kommentera: one container next to a blog. Configuration is by environment only
# (docs/operations.md lists every KOMMENTERA_* variable); data lives in the /data volume.

FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/kommentera
COPY pyproject.toml README.md constraints.txt ./
COPY service ./service
# Pinned versions (constraints.txt), so two builds install the same; then pip and
# setuptools leave the venv: nothing installs at run time.
RUN /opt/kommentera/bin/pip install --no-compile -c constraints.txt . \
    && /opt/kommentera/bin/pip uninstall --yes pip setuptools \
    && /opt/kommentera/bin/python -m compileall -q /opt/kommentera/lib

FROM python:3.11-slim
LABEL org.opencontainers.image.title="Kommentera" \
      org.opencontainers.image.description="Self-hosted comment moderation service"
RUN groupadd --system --gid 10001 kommentera \
    && useradd --system --uid 10001 --gid kommentera --home-dir /data --no-create-home kommentera \
    && mkdir /data && chown kommentera:kommentera /data
COPY --from=builder /opt/kommentera /opt/kommentera
ENV PATH=/opt/kommentera/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    KOMMENTERA_DATABASE_URL=sqlite:////data/kommentera.db \
    KOMMENTERA_HOST=0.0.0.0 \
    KOMMENTERA_PORT=8000
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('KOMMENTERA_PORT', '8000') + '/healthz', timeout=4)"]
CMD ["kommentera", "serve"]
