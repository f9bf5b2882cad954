#!/usr/bin/env bash
# Runs benchmark_matching at the sizes in docs/performance.md against a separate
# PostgreSQL database (never the test or demo ones), niced, and keeps each run's
# stdout/stderr under var/bench/.
#   scripts/bench_matching.sh 1000000 5000000 [2000000 10000000 ...]
#   WORKERS=2 scripts/bench_matching.sh …   # the night as 2 workers run it (--workers)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DB_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal_bench}
db=${BENCH_DB_URL##*/}
case "$db" in *bench*) ;; *) echo "refusing: database name must contain 'bench' ($db)" >&2; exit 2 ;; esac
psql "${BENCH_DB_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
  || createdb -d "${BENCH_DB_URL%/*}/postgres" "$db" 2>/dev/null || psql "${BENCH_DB_URL%/*}/postgres" -c "CREATE DATABASE $db"
export DATABASE_URL=$BENCH_DB_URL
unset REDIS_URL
.venv/bin/python manage.py migrate -v0
mkdir -p var/bench
while [ $# -ge 2 ]; do
  n=$1 m=$2; shift 2
  out=var/bench/matching-${n}-${m}
  [ "${WORKERS:-1}" = 1 ] || out=$out-w${WORKERS}
  echo "== $n pensioners, $m evidence" >&2
  nice -n 10 .venv/bin/python manage.py benchmark_matching --pensioners "$n" --evidence "$m" \
    --orm-sample "${ORM_SAMPLE:-2000}" --workers "${WORKERS:-1}" >"$out.json" 2>"$out.log"
  tail -n 1 "$out.json"
done
