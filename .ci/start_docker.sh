#!/usr/bin/env bash
# Starts dockerd when no engine answers; waits until it does.
set -euo pipefail
if docker info >/dev/null 2>&1; then
  exit 0
fi
log=/tmp/firestream-dockerd.log
if ! dockerd >"$log" 2>&1 & then :; fi
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "dockerd started"
    exit 0
  fi
  sleep 0.5
done
echo "dockerd did not start; last lines of $log:" >&2
tail -n 20 "$log" >&2
exit 1
