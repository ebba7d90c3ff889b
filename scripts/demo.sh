#!/usr/bin/env bash
# The demo: a local OpenTelemetry Collector, the demo backend (Flask with the
# OpenTelemetry Python SDK) serving the demo shop page with the Waggle agent,
# and a short visit to the shop in headless Chromium. Then prints, as trees,
# every trace the Collector received: the page load sits under the backend
# span that rendered the page.
#
#   bash scripts/demo.sh           run the visit, print the traces, stop everything
#   bash scripts/demo.sh --serve   keep the Collector and backend running for your
#                                  own browser until Ctrl-C, then print the traces
#   (make demo, make demo SERVE=1)
#
# Environment: PORT (the backend, 8080), WAGGLE_DEMO_OTLP_PORT (the Collector's
# OTLP/HTTP receiver, 4318), WAGGLE_DEMO_OUT (where spans and logs go; a new
# temporary directory otherwise). A default port that is taken is replaced by
# a free one, and the demo says so; a port you set that is taken is an error.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

serve=0
for arg in "$@"; do
  case "$arg" in
    --serve) serve=1 ;;
    -h | --help)
      sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "demo: unknown argument $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

die() {
  printf '\ndemo: %s\n' "$1" >&2
  exit 1
}
note() { printf 'demo: %s\n' "$1" >&2; }

bash scripts/setup.sh || die "setup failed; see the messages above."
printf '\n== building the agent package\n'
bash scripts/build.sh || die "the agent package did not build; see the messages above."
# The bundled demo app imports the package by name, as an app that ran
# `npm install waggle-rum` does; the wasm goes next to the bundle.
node_modules/.bin/esbuild www/bundled/main.js --bundle --format=esm --minify --log-level=warning \
  --alias:waggle-rum=./pkg/index.js --outfile=www/bundled/dist/app.js \
  || die "the bundled demo app did not build."
cp pkg/waggle_rum_bg.wasm www/bundled/dist/

collector_bin="$(bash scripts/collector.sh)" || die "no collector binary; see the messages above."
venv="$(bash scripts/venv.sh venv www/backend/requirements.txt)"
python="$venv/bin/python"
[[ -x "$python" && -f "$venv/.installed" ]] \
  || die "the backend's virtualenv ($venv) is missing or incomplete: run bash scripts/setup.sh."

# Something accepts connections on this loopback port (IPv4 or IPv6).
in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || (exec 3<>"/dev/tcp/::1/$1") 2>/dev/null
}
free_port() {
  node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })"
}
# pick_port WHAT DEFAULT SETTING_NAME SETTING_VALUE HINT
pick_port() {
  local what=$1 default=$2 name=$3 value=$4 hint=$5 port
  if [[ -n "$value" ]]; then
    [[ "$value" =~ ^[0-9]+$ ]] || die "$name=$value is not a port number."
    in_use "$value" && die "port $value ($name, $what) is already in use$hint. Set $name to a free port."
    echo "$value"
    return
  fi
  if in_use "$default"; then
    port="$(free_port)"
    note "port $default ($what) is already in use$hint; using port $port instead."
    echo "$port"
  else
    echo "$default"
  fi
}

otlp_port="$(pick_port "the Collector's OTLP/HTTP receiver" 4318 WAGGLE_DEMO_OTLP_PORT "${WAGGLE_DEMO_OTLP_PORT:-}" \
  " (probably another OpenTelemetry Collector; see: ss -ltnp 'sport = :4318')")"
port="$(pick_port "the demo backend" 8080 PORT "${PORT:-}" " (see: ss -ltnp 'sport = :8080')")"
health_port="$(pick_port "the Collector's health check" 13133 WAGGLE_DEMO_HEALTH_PORT "${WAGGLE_DEMO_HEALTH_PORT:-}" "")"
[[ "$otlp_port" != "$port" && "$health_port" != "$port" && "$health_port" != "$otlp_port" ]] \
  || die "the demo needs three different ports (backend $port, OTLP $otlp_port, health $health_port)."

out="${WAGGLE_DEMO_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/waggle-demo.XXXXXX")}"
mkdir -p "$out" || die "cannot create $out."
spans="$out/spans.jsonl"
: >"$spans"
page_url="http://localhost:$port/"

# Their own sessions, so Ctrl-C reaches only this script, which then stops
# the backend first (it flushes its spans) and the Collector last.
detach=()
command -v setsid >/dev/null && detach=(setsid)

collector_pid=""
backend_pid=""
stop_pid() {
  local pid=$1 i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}
stop_all() {
  stop_pid "$backend_pid"
  backend_pid=""
  stop_pid "$collector_pid"
  collector_pid=""
}
trap 'stop_all' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_log() {
  printf -- '--- last lines of %s ---\n' "$1" >&2
  tail -n "${2:-20}" "$1" >&2 || true
  printf -- '---\n' >&2
}

# wait_healthy NAME URL PID LOG
wait_healthy() {
  local name=$1 url=$2 pid=$3 log=$4 i
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log "$log"
      die "the $name exited during start-up; its log is above ($log)."
    fi
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  show_log "$log"
  die "the $name did not answer $url within 30 s; its log is above ($log)."
}

printf '\n== starting the Collector and the backend\n'
WAGGLE_OTLP_HTTP_ENDPOINT="127.0.0.1:$otlp_port" \
WAGGLE_HEALTH_ENDPOINT="127.0.0.1:$health_port" \
WAGGLE_ALLOWED_ORIGIN="http://localhost:$port" \
WAGGLE_ALLOWED_ORIGIN_2="http://127.0.0.1:$port" \
WAGGLE_OTLP_FILE="$spans" \
  "${detach[@]}" "$collector_bin" --config "$root/collector-config/local.yaml" >"$out/collector.log" 2>&1 &
collector_pid=$!
wait_healthy Collector "http://127.0.0.1:$health_port/" "$collector_pid" "$out/collector.log"
echo "   Collector: OTLP/HTTP on http://localhost:$otlp_port, spans to $spans"

PORT="$port" HOST=127.0.0.1 \
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$otlp_port" \
WAGGLE_BROWSER_OTLP_ENDPOINT="http://localhost:$otlp_port" \
WAGGLE_BACKEND_CORS_ORIGINS="http://localhost:$port" \
OTEL_BSP_SCHEDULE_DELAY="${OTEL_BSP_SCHEDULE_DELAY:-200}" \
PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
  "${detach[@]}" "$python" www/backend/app.py >"$out/backend.log" 2>&1 &
backend_pid=$!
wait_healthy backend "http://127.0.0.1:$port/healthz" "$backend_pid" "$out/backend.log"
echo "   backend: $page_url (service.name waggle-demo-backend)"

print_traces() {
  printf '\n== the traces the Collector received (%s)\n' "$spans"
  echo "   Each tree is one trace; [service] marks where the service changes."
  echo "   The page load (documentLoad, from waggle-demo-web) hangs under the backend's GET / span."
  echo
  node scripts/print-trace.mjs "$spans" --wait-ms 2000
  printf '\nSpans, Collector and backend logs are kept in %s\n' "$out"
}

if [[ "$serve" == 1 ]]; then
  cat <<EOF

== serving
   Open $page_url in your browser and use the shop.
   Cross-origin API calls (CORS, trace headers): ${page_url}?api=http://127.0.0.1:$port
   Spans go to $spans; print them any time with
     node scripts/print-trace.mjs $spans
   Ctrl-C stops the backend and the Collector and prints the traces.
EOF
  stopping=0
  trap 'stopping=1' INT TERM
  while [[ "$stopping" == 0 ]] && kill -0 "$backend_pid" 2>/dev/null && kill -0 "$collector_pid" 2>/dev/null; do
    sleep 1 || true
  done
  status=0
  if [[ "$stopping" == 0 ]]; then
    status=1
    if ! kill -0 "$backend_pid" 2>/dev/null; then show_log "$out/backend.log"; note "the backend stopped on its own; its log is above."; fi
    if ! kill -0 "$collector_pid" 2>/dev/null; then show_log "$out/collector.log"; note "the Collector stopped on its own; its log is above."; fi
  else
    printf '\n== stopping\n'
  fi
  stop_all
  print_traces
  exit "$status"
fi

printf '\n== a visit to the shop in headless Chromium\n'
if ! node scripts/demo-driver.mjs --url "${page_url}?user=demo-alice" --spans "$spans"; then
  show_log "$out/backend.log" 15
  show_log "$out/collector.log" 15
  stop_all
  print_traces
  die "the visit did not produce the expected spans; the logs are above."
fi
# Stopping flushes: the backend sends what it still holds, the Collector
# writes what it has batched.
stop_all
print_traces
