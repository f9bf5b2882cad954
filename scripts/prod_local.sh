#!/usr/bin/env bash
# The docker-compose.yml process set, without Docker: gunicorn (production settings),
# a Celery worker on `default`, one on `face`, and beat with django-celery-beat's
# DatabaseScheduler, against this machine's PostgreSQL and Redis.
#
#   scripts/prod_local.sh start    # migrate, collectstatic, start all four, wait for /healthz
#   scripts/prod_local.sh status   # pids and /healthz
#   scripts/prod_local.sh stop     # stop exactly the processes this script started (pid files)
#
# Environment (defaults in brackets):
#   DATABASE_URL [postgres://postgres@127.0.0.1:5432/portal_prodlocal]  REDIS_URL [redis://127.0.0.1:6379/5]
#   PROD_LOCAL_PORT [8510]  PROD_LOCAL_DIR [var/prod-local]  WEB_WORKERS [2]
# HTTPS redirect and secure cookies are switched off by env for plain-HTTP localhost;
# everything else is config.settings.production as deployed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
BIN="$ROOT/.venv/bin"
RUN_DIR=${PROD_LOCAL_DIR:-$ROOT/var/prod-local}
PORT=${PROD_LOCAL_PORT:-8510}
mkdir -p "$RUN_DIR"

export DJANGO_SETTINGS_MODULE=config.settings.production
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal_prodlocal}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/5}
export DJANGO_ALLOWED_HOSTS=${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}
export SECURE_SSL_REDIRECT=${SECURE_SSL_REDIRECT:-0}
export SECURE_HSTS_SECONDS=${SECURE_HSTS_SECONDS:-0}
export SMS_TRANSPORT=${SMS_TRANSPORT:-file}
export SMS_FILE_PATH=${SMS_FILE_PATH:-$RUN_DIR/sms.jsonl}
export STATIC_ROOT=${STATIC_ROOT:-$RUN_DIR/static}
export MEDIA_ROOT=${MEDIA_ROOT:-$RUN_DIR/media}
export LOG_JSON=${LOG_JSON:-1}
# A throwaway key per run directory (never committed, never reused elsewhere).
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
  [ -f "$RUN_DIR/secret_key" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(64))' > "$RUN_DIR/secret_key"
  DJANGO_SECRET_KEY=$(cat "$RUN_DIR/secret_key")
  export DJANGO_SECRET_KEY
fi

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_one() {  # name, command...
  local name=$1; shift
  if pid_alive "$RUN_DIR/$name.pid"; then echo "$name already running"; return; fi
  nohup "$@" >>"$RUN_DIR/$name.log" 2>&1 &
  echo $! > "$RUN_DIR/$name.pid"
}

ensure_database() {
  "$PY" - <<'EOF'
import os, environ, psycopg2
cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
conn = psycopg2.connect(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"],
                        password=cfg["PASSWORD"] or None, dbname="postgres")
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
    if cur.fetchone() is None:
        cur.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
EOF
}

wait_healthy() {
  for _ in $(seq 1 60); do
    if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "web did not become healthy; see $RUN_DIR/web.log" >&2
  return 1
}

case "${1:-start}" in
  start)
    ensure_database
    "$PY" manage.py migrate --noinput >"$RUN_DIR/migrate.log" 2>&1
    "$PY" manage.py collectstatic --noinput >"$RUN_DIR/collectstatic.log" 2>&1
    start_one web "$BIN/gunicorn" config.wsgi:application --bind "127.0.0.1:$PORT" \
      --workers "${WEB_WORKERS:-2}" --timeout 60 --graceful-timeout 20 --access-logfile -
    start_one worker-default "$BIN/celery" -A config worker -Q default -n "default@%h-$PORT" \
      --concurrency 1 --loglevel INFO
    start_one worker-face "$BIN/celery" -A config worker -Q face -n "face@%h-$PORT" \
      --concurrency 1 --loglevel INFO
    start_one beat "$BIN/celery" -A config beat --loglevel INFO \
      --scheduler django_celery_beat.schedulers:DatabaseScheduler --pidfile "$RUN_DIR/beat.celerypid"
    wait_healthy
    echo "prod-local: http://127.0.0.1:$PORT/ (logs and pids in $RUN_DIR; stop with: $0 stop)"
    ;;
  stop)
    for name in beat worker-face worker-default web; do
      f="$RUN_DIR/$name.pid"
      if pid_alive "$f"; then
        kill -TERM "$(cat "$f")"
        for _ in $(seq 1 30); do pid_alive "$f" || break; sleep 0.5; done
        pid_alive "$f" && kill -KILL "$(cat "$f")"
      fi
      rm -f "$f"
    done
    rm -f "$RUN_DIR/beat.celerypid"
    echo "prod-local: stopped"
    ;;
  status)
    for name in web worker-default worker-face beat; do
      if pid_alive "$RUN_DIR/$name.pid"; then echo "$name: running (pid $(cat "$RUN_DIR/$name.pid"))"; else echo "$name: stopped"; fi
    done
    curl -sS "http://127.0.0.1:$PORT/healthz" || true; echo
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
