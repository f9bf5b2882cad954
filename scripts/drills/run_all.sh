#!/usr/bin/env bash
# Run every reliability drill in turn (nice'd); each prints one JSON line and exits non-zero on failure.
# Results also land in var/drills/<drill>.json; docs/reliability.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."
for d in drill1_matching_killed drill2_concurrent_matching drill3_worker_killed drill4_redis_outage \
         drill5_postgres_restart drill6_mixed_feed; do
  echo "== $d" >&2
  nice .venv/bin/python "scripts/drills/$d.py"
done
