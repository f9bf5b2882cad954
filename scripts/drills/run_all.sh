#!/usr/bin/env bash
# Run every reliability drill (nice'd), even after one fails; print a summary table; exit 1 if any failed.
# Each drill prints one JSON line ("passed" and its figures) and exits non-zero on failure;
# its output is kept in var/drills/<drill>.out and its JSON in var/drills/<drill>.json.
# docs/reliability.md records a run.   Usage: scripts/drills/run_all.sh [drill-name ...]
set -uo pipefail
cd "$(dirname "$0")/../.."
ALL=(drill1_matching_killed drill2_concurrent_matching drill3_worker_killed drill4_redis_outage
     drill5_postgres_restart drill6_mixed_feed drill7_nightly_paused drill8_roster_restored
     drill9_postgres_killed_import drill10_redis_blackhole)
DRILLS=("${@:-${ALL[@]}}")
# One drill at most this long (seconds): a hung drill fails and the others still run.
LIMIT="${DRILL_TIMEOUT:-3600}"
mkdir -p var/drills
declare -A RC SECS LOAD
failed=0
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "== start $(date -u +%FT%TZ), load $(load)" >&2
for d in "${DRILLS[@]}"; do
  if [ ! -f "scripts/drills/$d.py" ]; then
    echo "== $d: no such drill" >&2; RC[$d]=missing; SECS[$d]=0; failed=1; continue
  fi
  echo "== $d" >&2
  t0=$(date +%s)
  timeout --kill-after=30 "$LIMIT" nice .venv/bin/python "scripts/drills/$d.py" \
    > >(tee "var/drills/$d.out") 2> >(tee "var/drills/$d.err" >&2)
  rc=$?
  RC[$d]=$rc; SECS[$d]=$(( $(date +%s) - t0 )); LOAD[$d]=$(load)
  [ "$rc" -ne 0 ] && failed=1
done
sleep 1  # let tee flush
echo
echo "end $(date -u +%FT%TZ); load average at each drill's end (1, 5, 15 min)"
printf '%-32s %-7s %8s  %s\n' "drill" "result" "seconds" "load"
printf '%-32s %-7s %8s  %s\n' "-----" "------" "-------" "----"
for d in "${DRILLS[@]}"; do
  case "${RC[$d]}" in
    0) r=pass ;; 124|137) r=TIMEOUT ;; missing) r=MISSING ;; *) r=FAIL ;;
  esac
  printf '%-32s %-7s %8s  %s\n' "$d" "$r" "${SECS[$d]}" "${LOAD[$d]:-}"
done
exit $failed
