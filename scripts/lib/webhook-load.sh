# Shared by scripts/bench-webhook.sh and scripts/soak-webhook.sh (sourced, not run): a work
# directory removed on exit with every process started into `pids`, the wrk script that posts an
# AdmissionReview, and small probes of the running webhook.

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# $work/post.lua: POSTs the file named by $REVIEW; when done, prints one line
#   RESULT requests duration_us socket_errors non_2xx p50_us p99_us max_us
write_post_lua() {
  cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("REVIEW"), "r"))
wrk.body = f:read("*a")
f:close()
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
LUA
}

# kib PID FIELD: a /proc/PID/status field in KiB (VmRSS, VmHWM).
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

# wait_ready METRICS_PORT: until the webhook's /readyz answers (at most 10 s).
wait_ready() {
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "the webhook on metrics port $1 never became ready" >&2
  exit 1
}

# cpu_ticks PID: user + system CPU time of a process so far, in clock ticks (/proc/PID/stat).
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
