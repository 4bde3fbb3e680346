# Tuangou web/worker/beat image: one image, three commands (see docker-compose.yml).
#
#   docker build -t tuangou .
#   docker run -e SECRET_KEY=... -e DATABASE_URL=postgres://... -p 8000:8000 tuangou
#
# The default command serves the site with gunicorn on 0.0.0.0:8000. The same image runs
# `celery -A groupbuy worker` and `celery -A groupbuy beat`.

# --- build: dependencies into a venv, translations compiled, static files collected ---
FROM python:3.11-slim AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# msgfmt, for compilemessages; only in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv

WORKDIR /app

# Dependencies first so that code changes reuse this layer. pyproject.toml declares no
# packages: `pip install .` installs the dependencies; the code runs from /app.
COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install .

COPY . .

# Settings refuse DEBUG=0 without SECRET_KEY; a throwaway key is enough to build.
RUN DEBUG=0 SECRET_KEY=docker-build-only-throwaway-key-never-used-at-run-time-0123456789 \
      python manage.py compilemessages --ignore='.venv/*' \
    && DEBUG=0 SECRET_KEY=docker-build-only-throwaway-key-never-used-at-run-time-0123456789 \
      python manage.py collectstatic --noinput

# --- runtime: no compilers, no gettext, a non-root user ---
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=groupbuy.settings \
    DEBUG=0 \
    MEDIA_ROOT=/app/media

# CJK glyphs for the group-buy poster images (Pillow renders Chinese text with them).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 tuangou \
    && useradd --system --uid 10001 --gid tuangou --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin tuangou

COPY --from=build /opt/venv /opt/venv
# Code and collected static files stay owned by root: the app cannot rewrite itself.
COPY --from=build /app /app

# Uploads are the only thing the app writes to disk.
RUN mkdir -p /app/media && chown tuangou:tuangou /app/media

WORKDIR /app
USER tuangou:tuangou

EXPOSE 8000

# WEB_CONCURRENCY (read by gunicorn) sets the number of worker processes.
CMD ["gunicorn", "groupbuy.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
