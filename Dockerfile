# CPI Tracker: one image for the web app (gunicorn) and the worker (cpi worker).
# See README.md, "Running in production".
FROM python:3.11-slim

# WeasyPrint (PDF scorecards) needs Pango; DejaVu fonts for the PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CPI_INSTANCE_PATH=/var/lib/cpi \
    CPI_BIND=0.0.0.0:8000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cpi ./cpi
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
RUN pip install '.[postgres,redis]' \
    && useradd --system --uid 10001 --home-dir /var/lib/cpi --create-home cpi

USER cpi
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["gunicorn", "-c", "python:cpi.gunicorn_conf", "cpi:create_app()"]
