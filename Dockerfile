# Production image for docker-compose.yml (web, workers, beat, flower share it).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml ./
COPY . .
# Same install route as scripts/install.sh (DESIGN §3): dlib-bin wheel, then face_recognition --no-deps.
RUN pip install . && pip install --no-deps face-recognition==1.3.0 face-recognition-models==0.3.0
RUN useradd --create-home portal && mkdir -p /app/var /app/staticfiles && chown -R portal /app/var /app/staticfiles
USER portal
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4"]
