#!/usr/bin/env bash
# Does a second event loop help issuance on this machine? Starts N certmaster servers from dist/ (each
# on its own fresh data directory, autosign on), loads each with its own bench/load.ts at concurrency C,
# times the same seconds on all of them (--start-at), and prints each rate and their sum. Compare
# `bench/split-servers.sh 2 8` with `bench/split-servers.sh 1 16` run alternately (docs/benchmarks.md,
# 2026-12-06). An experiment, not a target: `npm run bench` does not run it.
#
#   npx tsc -p tsconfig.build.json && bench/split-servers.sh SERVERS CONCURRENCY [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

servers=${1:?usage: bench/split-servers.sh SERVERS CONCURRENCY [SECONDS]}
concurrency=${2:?usage: bench/split-servers.sh SERVERS CONCURRENCY [SECONDS]}
seconds=${3:-6}
[[ $servers =~ ^[1-8]$ ]] || { echo "SERVERS must be 1 to 8" >&2; exit 2; }
[[ $concurrency =~ ^[0-9]+$ ]] && ((concurrency >= 1 && concurrency <= 256)) ||
  { echo "CONCURRENCY must be 1 to 256" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+$ ]] && ((seconds >= 1 && seconds <= 60)) || { echo "SECONDS must be 1 to 60" >&2; exit 2; }

work=$(mktemp -d /tmp/certmaster-split.XXXXXX)
# Every child: the servers and, once started, the load generators.
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# A trapped signal would otherwise let the script run on after the cleanup.
trap 'exit 130' INT TERM

for i in $(seq 1 "$servers"); do
  data="$work/data-$i"
  node bin/certmaster.js init --data "$data" >/dev/null 2>&1
  node bin/certmaster.js config set ra.autosign all --data "$data" >/dev/null 2>&1
  node bin/certmaster.js serve --data "$data" --listen 127.0.0.1:0 --log-level warn >"$work/serve-$i.log" 2>&1 &
  pids+=($!)
done
for i in $(seq 1 "$servers"); do
  for _ in $(seq 1 300); do grep -q 'serving https' "$work/serve-$i.log" && break; sleep 0.1; done
  grep -q 'serving https' "$work/serve-$i.log" || { echo "server $i did not start" >&2; exit 1; }
done

# Room for every generator's keys, warm-up and CSRs before the common clock starts.
start_at=$(($(date +%s%3N) + 15000))
loads=()
for i in $(seq 1 "$servers"); do
  url=$(grep -o 'https://127\.0\.0\.1:[0-9]*' "$work/serve-$i.log" | head -n 1)
  node --import tsx bench/load.ts --target certmaster --url "$url" --ca-file "$work/data-$i/ca/ca.pem" \
    --concurrency "$concurrency" --seconds "$seconds" --warmup-seconds 2 --start-at "$start_at" \
    >"$work/load-$i.json" 2>"$work/load-$i.err" &
  loads+=($!)
  pids+=($!)
done
for pid in "${loads[@]}"; do wait "$pid" || { cat "$work"/load-*.err >&2; exit 1; }; done

total=0
for i in $(seq 1 "$servers"); do
  rate=$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(Math.round(r.perSecond))' "$work/load-$i.json")
  echo "server $i: $rate certificates/s"
  total=$((total + rate))
done
echo "$servers server(s) at concurrency $concurrency each: $total certificates/s in total"
