#!/usr/bin/env bash
# Side-by-side reverse-proxy benchmark (nginx, HAProxy, Portcullis) on 127.0.0.1.
# Thin wrapper: installs missing tools, then runs bench/bench.py "$@".
# Usage: bench/run.sh [--only nginx,haproxy[,portcullis][,direct]] [--workers 1,2] ...
#        bench/run.sh lb [--rounds 3]      Portcullis throughput with each balancing algorithm
#        bench/run.sh tls [--rounds 3] [--duration 10] [--scenarios keepalive,handshake,h2]
#                                          TLS keep-alive, new TLS connection per request, HTTP/2 (h2load)
#        bench/run.sh cache [--rounds 3] [--duration 10] [--sizes 1k,16k,256k] [--only nginx,portcullis,varnish]
#                                          cache hits beside nginx proxy_cache (and Varnish, when it installs)
#        bench/run.sh compress [--rounds 2]   compression throughput per algorithm, beside nginx gzip
#        bench/run.sh forward [--rounds 3] [--duration 10] [--tests get,tunnel] [--only squid,portcullis,direct]
#                                          forward-proxy GETs and CONNECT tunnel MB/s beside Squid (installs squid)
# Env:   BENCH_DURATION (10) BENCH_CONNECTIONS (64) BENCH_CONNECTIONS_1M (16)
#        BENCH_THREADS (2) BENCH_ROUNDS (3) BENCH_WARMUP (3) BENCH_WARMUP_PORTCULLIS (10)
#        PORTCULLIS_JAR (target/portcullis.jar, relative to the repo root)
#        cache only: BENCH_WORKERS (2) BENCH_MISS_DURATION (5, 0 = no cold-miss runs) BENCH_MISS_SIZE (16k)
#        BENCH_CACHE_DIR (nginx's cache dir parent; default the run's temp dir)
#        BENCH_ORIGIN_PORT (18080) PORTCULLIS_JAVA_OPTS
#        forward only: BENCH_WORKERS (2) BENCH_TUNNELS (8) BENCH_TUNNEL_OBJECT (64m) BENCH_ANONYMIZE (off)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."

missing=()
command -v nginx   >/dev/null || missing+=(nginx-light)
command -v haproxy >/dev/null || missing+=(haproxy)
command -v wrk     >/dev/null || missing+=(wrk)
command -v curl    >/dev/null || missing+=(curl)
if [ "${1:-}" = tls ]; then
  command -v h2load  >/dev/null || missing+=(nghttp2-client)
  command -v openssl >/dev/null || missing+=(openssl)
fi
if [ "${1:-}" = forward ]; then
  command -v squid >/dev/null || missing+=(squid)
fi
if [ "${1:-}" = gateway ]; then
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v openssl >/dev/null || missing+=(openssl)
fi
if ((${#missing[@]})); then
  echo "[bench] installing: ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  # Debian's packages start system services on install: we use our own configs
  # and ports, so these are left alone; they do not use ports 18080-18083/19901. (Debian's squid service
  # listens on 3128 when it runs; the forward benchmark starts its own squid on 18281 with its own -n name.)
fi
# Varnish is optional for `cache` (the run measures without it): install it when the package is there, and
# go on without it when it is not.
if [ "${1:-}" = cache ] && ! command -v varnishd >/dev/null; then
  echo "[bench] installing varnish (optional: the cache benchmark runs without it)" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq varnish; } \
    || echo "[bench] varnish not installed: its rows are left out" >&2
fi
command -v python3 >/dev/null || { echo "[bench] python3 is required" >&2; exit 1; }

# bench.py writes the PIDs of everything it starts here; if Python dies hard
# (SIGKILL, crash) this trap still stops those processes, by PID.
pidfile="$(mktemp -t portcullis-bench-pids.XXXXXX)"
export BENCH_PIDFILE="$pidfile"
cleanup() {
  local pid
  if [ -s "$pidfile" ]; then
    while read -r pid; do
      [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
    done <"$pidfile"
    sleep 1
    while read -r pid; do
      [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    done <"$pidfile"
  fi
  rm -f "$pidfile"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "${1:-}" = lb ]; then
  shift
  python3 bench/lb_throughput.py "$@"   # throughput by balancing algorithm (bench/README.md)
elif [ "${1:-}" = tls ]; then
  shift
  python3 bench/tls_bench.py "$@"       # TLS keep-alive, full handshakes, HTTP/2 (bench/README.md)
elif [ "${1:-}" = cache ]; then
  shift
  python3 bench/cache_bench.py "$@"     # cache hits vs nginx proxy_cache, origin requests counted (bench/README.md)
elif [ "${1:-}" = compress ]; then
  shift
  python3 bench/compress_bench.py "$@"  # compression throughput per algorithm (bench/README.md)
elif [ "${1:-}" = forward ]; then
  shift
  python3 bench/forward_bench.py "$@"   # forward GETs and CONNECT tunnels beside Squid (bench/README.md)
elif [ "${1:-}" = gateway ]; then
  shift
  python3 bench/gateway_bench.py "$@"   # the cost of JWT auth and rate limits, local and through Redis (bench/README.md)
else
  python3 bench/bench.py "$@"
fi
