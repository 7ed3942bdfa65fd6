#!/usr/bin/env python3
"""Cache-hit benchmark: Portcullis's cache vs nginx proxy_cache (and Varnish when installed), same objects.

An nginx origin (127.0.0.1:18080, 2 workers) serves generated objects of several sizes with
`Cache-Control: public, max-age=3600`, an ETag and Last-Modified, and logs every request it serves to a file:
the harness counts the origin's requests around every run, so a hit run PROVES it measured hits (the origin
must see no request while wrk runs). In front of it, each proxy caches:

    nginx       127.0.0.1:18181   proxy_cache (disk-backed cache dir, served through the page cache),
                                  proxy_cache_lock on, no proxy_cache_valid (origin headers decide),
                                  X-Cache-Status: $upstream_cache_status, keep-alive upstream
    portcullis  127.0.0.1:18183   caches: { bench: { memory: 256MiB, max_object_size: 16MiB } }, route cache: bench;
                                  hits confirmed by its Cache-Status header (RFC 9211: "portcullis; hit")
    varnish     127.0.0.1:18184   optional (when varnishd is installed): -s malloc,256m, X-Cache from obj.hits

Before anything else the Portcullis config is checked with `java -jar JAR validate -c FILE`: a build that
refuses `caches` / route `cache` ("not supported in this version yet") is reported as
"portcullis: cache not supported by this build" and the other proxies are still measured.

Per object size: fill (one GET through each proxy), warm-up (wrk: 10 s Portcullis for the JIT, 3 s the others),
a probe (one more GET: the proxy's hit header must say hit, and the origin must not see it), then rounds in
which every proxy runs once, the order rotating each round; each run is `wrk -t2 -c64 -d10s --latency`.
Then, optionally, a "cold miss" run per proxy per round: wrk with a Lua script that asks for a new URL on every
request (`/obj/SIZE?miss=...`), so every request is a miss that goes to the origin and is stored.

Reported per size and proxy: req/s, p50/p99, CPU µs per request of the proxy's processes, origin requests
during the measured runs (0 = every response was a hit), the hit probe, and req/s vs nginx (the median of the
per-round ratios) with the >= 1.0x target verdict. Reuses bench/bench.py's helpers (`import bench as b`).

Run through bench/run.sh (which installs nginx, wrk, curl and, best-effort, varnish):
    bench/run.sh cache [--rounds 3] [--duration 10] [--sizes 1k,16k,256k] [--only nginx,portcullis,varnish]
Environment: BENCH_DURATION (10 s), BENCH_ROUNDS (3), BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_WARMUP
(3 s), BENCH_WARMUP_PORTCULLIS (10 s), BENCH_WORKERS (2: nginx worker_processes, Portcullis workers, Varnish
thread_pools), BENCH_BACKEND_WORKERS (2: the origin), BENCH_MISS_DURATION (5 s; 0 skips the cold-miss runs),
BENCH_MISS_SIZE (16k), BENCH_CACHE_DIR (where nginx's cache lives; default: under the run's temp dir), BENCH_ORIGIN_PORT (18080),
PORTCULLIS_JAVA_OPTS ("-Xms512m -Xmx512m -XX:MaxDirectMemorySize=512m -XX:+UseParallelGC"), PORTCULLIS_JAR.
"""
import argparse
import http.client
import json
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing bench.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b  # noqa: E402

# 18080 as in the other harnesses (so they cannot run at the same time); BENCH_ORIGIN_PORT moves it when 18080 is taken
ORIGIN_PORT = b.env_int("BENCH_ORIGIN_PORT", b.BACKEND_PORT)
PORTS = {"nginx": 18181, "portcullis": 18183, "varnish": 18184}
ADMIN_PORT = 19905
PROXIES = list(PORTS)
PROC_NAMES = {"nginx": "nginx-cache", "portcullis": "portcullis-cache", "varnish": "varnish-cache"}
# The header each proxy marks its hits with, and how a hit reads in it.
HIT_HEADERS = {"nginx": "X-Cache-Status", "portcullis": "Cache-Status", "varnish": "X-Cache"}
# The zone the issue asks for; nginx's max_size and Varnish's malloc storage get the same byte budget.
CACHE_BYTES = 256 * 1024 * 1024
MAX_OBJECT = "16MiB"
# Issue 5: Portcullis cache hits at >= 1.0x nginx proxy_cache hits (req/s).
TARGET_VS_NGINX = 1.0
UNSUPPORTED_MARK = "not supported in this version yet"
DEFAULT_JAVA_OPTS = "-Xms512m -Xmx512m -XX:MaxDirectMemorySize=512m -XX:+UseParallelGC"


def parse_size(text):
    m = re.fullmatch(r"(\d+)([kKmM]?)", text.strip())
    if not m:
        raise ValueError(f"bad size {text!r}: use e.g. 1k, 16k, 256k, 1m")
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]


def obj_path(size_name):
    return f"/obj/{size_name}"


# --------------------------------------------------------------------------
# Origin: static files with cache headers, every request logged (that is how hits are proven)
# --------------------------------------------------------------------------
def make_objects(tmp, size_names):
    d = os.path.join(tmp, "www", "obj")
    os.makedirs(d, exist_ok=True)
    block = bytes(range(256))  # deterministic, not compressible to nothing; nobody compresses here anyway
    for name in size_names:
        n = parse_size(name)
        with open(os.path.join(d, name), "wb") as f:
            f.write((block * (n // 256 + 1))[:n])
    # nginx workers may run as an unprivileged user: make the tree readable
    for p in (tmp, os.path.join(tmp, "www"), d):
        os.chmod(p, 0o755)
    for n in os.listdir(d):
        os.chmod(os.path.join(d, n), 0o644)


def origin_conf(tmp, workers):
    d, temps = b.nginx_common(tmp, "origin")
    www = os.path.join(tmp, "www")
    return f"""# generated by bench/cache_bench.py: the origin; every request it serves is logged (counted by the harness)
{b.nginx_main(d, workers)}http {{
    # unbuffered: a line is in the file as soon as the request is served, so counts around a run are exact
    log_format origin '$request_method $request_uri $status $body_bytes_sent inm="$http_if_none_match"';
    access_log {d}/access.log origin;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    default_type application/octet-stream;
{temps}
    server {{
        listen {b.HOST}:{ORIGIN_PORT} backlog=4096;
        root {www};
        # static files: nginx sends ETag and Last-Modified itself
        location /obj/ {{
            add_header Cache-Control "public, max-age=3600";
        }}
        # readiness checks: not cacheable (no validator, no freshness), not counted
        location = /health {{
            access_log off;
            default_type text/plain;
            return 200 "ok\\n";
        }}
    }}
}}
"""


class OriginLog:
    """The origin's access log, read from a byte offset: how many requests it served since a mark, and which."""

    def __init__(self, path):
        self.path = path

    def mark(self):
        try:
            return os.path.getsize(self.path)
        except FileNotFoundError:
            return 0

    def since(self, offset):
        try:
            with open(self.path, "rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            return []
        return data.decode("latin-1").splitlines()


# --------------------------------------------------------------------------
# Caching proxies
# --------------------------------------------------------------------------
def nginx_conf(tmp, workers, cache_dir):
    name = PROC_NAMES["nginx"]
    d, temps = b.nginx_common(tmp, name)
    return f"""# generated by bench/cache_bench.py: nginx proxy_cache in front of the origin
{b.nginx_main(d, workers)}http {{
    access_log off;
    # hits are served from the cache files: sendfile as in production configs
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
{temps}
    # disk-backed cache; hot objects are read from the page cache. use_temp_path=off: fills are written in place
    proxy_cache_path {cache_dir} levels=1:2 keys_zone=bench:32m max_size={CACHE_BYTES // (1024 * 1024)}m
                     inactive=60m use_temp_path=off;
    upstream origin {{
        server {b.HOST}:{ORIGIN_PORT};
        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        listen {b.HOST}:{PORTS['nginx']} backlog=4096;
        location / {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache bench;
            # no proxy_cache_valid: freshness comes from the origin's Cache-Control, as for Portcullis
            proxy_cache_lock on;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
    }}
}}
"""


def portcullis_conf(workers):
    return f"""# generated by bench/cache_bench.py
workers: {workers}
transport: auto
admin: {{ bind: {b.HOST}:{ADMIN_PORT} }}
access_log: {{ path: off }}
caches:
  bench: {{ memory: {CACHE_BYTES // (1024 * 1024)}MiB, max_object_size: {MAX_OBJECT} }}
listeners:
  - name: cache-bench
    bind: {b.HOST}:{PORTS['portcullis']}
    routes:
      - name: all
        match: {{ path_prefix: / }}
        upstream: origin
        cache: bench
upstreams:
  origin:
    endpoints: [{b.HOST}:{ORIGIN_PORT}]
"""


def varnish_vcl():
    return f"""# generated by bench/cache_bench.py: Varnish's built-in VCL decides (it honours the origin's Cache-Control)
vcl 4.1;
backend origin {{
    .host = "{b.HOST}";
    .port = "{ORIGIN_PORT}";
}}
sub vcl_deliver {{
    if (obj.hits > 0) {{ set resp.http.X-Cache = "HIT"; }} else {{ set resp.http.X-Cache = "MISS"; }}
}}
"""


def varnish_argv(tmp, workers, vcl):
    d = os.path.join(tmp, PROC_NAMES["varnish"])
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    # -F foreground (the manager; its child serves), -n its own work dir, -T none: no management port.
    # Varnish has no worker processes: thread_pools (one per core is its advice) is the nearest knob.
    return ["varnishd", "-F", "-n", d, "-a", f"{b.HOST}:{PORTS['varnish']}", "-T", "none", "-f", vcl,
            "-s", f"malloc,{CACHE_BYTES // (1024 * 1024)}m", "-p", f"thread_pools={workers}"]


def validate_portcullis(jar, conf, java_opts):
    """None when this build accepts the cache config, else why not (the validate output)."""
    argv = ["java"] + java_opts + ["-jar", jar, "validate", "-c", conf]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=b.REPO_ROOT, timeout=120)
    out = (r.stdout + r.stderr).strip()
    if r.returncode == 0:
        return None, out
    if UNSUPPORTED_MARK in out:
        return "cache not supported by this build", out
    return f"config refused by validate (exit {r.returncode})", out


def start_proxy(proxy, workers, tmp, jar, cache_dir, java_opts):
    b.check_port_free(PORTS[proxy])
    name = PROC_NAMES[proxy]
    if proxy == "nginx":
        conf = b.write(os.path.join(tmp, f"nginx-cache-w{workers}.conf"), nginx_conf(tmp, workers, cache_dir))
        p = b.start_nginx(name, conf, tmp)
    elif proxy == "varnish":
        conf = b.write(os.path.join(tmp, "cache.vcl"), varnish_vcl())
        p = b.PROCS.start(name, varnish_argv(tmp, workers, conf), os.path.join(tmp, f"{name}.out"))
    else:
        b.check_port_free(ADMIN_PORT)
        conf = os.path.join(tmp, f"portcullis-cache-w{workers}.yaml")
        argv = ["java"] + java_opts + ["-jar", jar, "run", "-c", conf]
        p = b.PROCS.start(name, argv, os.path.join(tmp, f"{name}.out"), cwd=b.REPO_ROOT)
    try:
        b.wait_ready(proxy, PORTS[proxy], path="/health", proc=p, logpath=p.logpath)
    except SystemExit as e:  # one proxy that does not start must not cost the others their measurement
        b.PROCS.stop(name)
        return None, conf, str(e)
    return p, conf, " ".join(p.args)


# --------------------------------------------------------------------------
# Probe: one GET, the proxy's own hit marker, and the origin's view
# --------------------------------------------------------------------------
def fetch(port, path):
    c = http.client.HTTPConnection(b.HOST, port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, len(body)
    finally:
        c.close()


def cache_status_hit(value):
    """RFC 9211: a list of members `cache-name; param; param=value`; ours is `portcullis` and a hit carries `hit`."""
    for member in (value or "").split(","):
        parts = [p.strip() for p in member.split(";")]
        if parts[0].strip('"') == "portcullis":
            return any(p in ("hit", "hit=?1") for p in parts[1:])
    return False


def is_hit(proxy, headers):
    value = headers.get(HIT_HEADERS[proxy].lower())
    return cache_status_hit(value) if proxy == "portcullis" else value == "HIT"


def probe(proxy, path, size, origin):
    """After fill and warm-up: one more GET must be a hit by the proxy's own header, with the whole body, and
    must not reach the origin."""
    mark = origin.mark()
    try:
        status, headers, n = fetch(PORTS[proxy], path)
    except (OSError, http.client.HTTPException) as e:
        return {"ok": False, "why": f"GET failed: {e}"}
    seen = len(origin.since(mark))
    hdr = headers.get(HIT_HEADERS[proxy].lower())
    ok = status == 200 and n == size and is_hit(proxy, headers) and seen == 0
    why = None if ok else (f"status {status}, {n}/{size} bytes, {HIT_HEADERS[proxy]}: {hdr!r}, "
                           f"origin saw {seen} request(s)")
    return {"ok": ok, "why": why, HIT_HEADERS[proxy]: hdr, "etag": headers.get("etag"),
            "age": headers.get("age"), "origin requests": seen}


# --------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------
MISS_LUA = """-- generated by bench/cache_bench.py: a new URL on every request, so every request is a cache miss
local counter = 0
function init(args)
  prefix = args[1]
  path = args[2]
end
function request()
  counter = counter + 1
  return wrk.format("GET", path .. "?miss=" .. prefix .. "-" .. id .. "-" .. counter)
end
"""
# setup() runs in the main Lua state once per thread; `id` becomes a global of that thread's state.
MISS_LUA += """local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
"""


def wrk_argv(port, path, duration, conns, threads, miss_script=None, miss_prefix=None):
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency"]
    if miss_script:
        argv += ["-s", miss_script]
    argv.append(f"http://{b.HOST}:{port}{path}")
    if miss_script:
        argv += ["--", miss_prefix, path]
    return argv


def measure(kind, proxy, size_name, rnd, cfg, origin, origin_pid, tag, miss_script=None):
    """One wrk run against one proxy: rate, latency, the proxy's CPU per request, the origin's requests."""
    path = obj_path(size_name)
    duration = cfg.miss_duration if kind == "miss" else cfg.duration
    argv = wrk_argv(PORTS[proxy], path, duration, cfg.conns, cfg.threads, miss_script,
                    f"{tag}-r{rnd}-{proxy}" if miss_script else None)
    p = b.PROCS.procs[PROC_NAMES[proxy]]
    pids, opids = b.process_tree(p.pid), b.process_tree(origin_pid)
    t0, o0, h0 = b.cpu_ticks(pids), b.cpu_ticks(opids), b.host_cpu()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    mark = origin.mark()
    out = b.run_wrk(argv, duration)
    seen = origin.since(mark)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    h1 = b.host_cpu()
    t1, o1 = b.cpu_ticks(b.process_tree(p.pid)), b.cpu_ticks(b.process_tree(origin_pid))
    with open(os.path.join(b.RAW_DIR, f"cache_{tag}_{kind}_{size_name}_r{rnd}_{proxy}.txt"), "w") as f:
        f.write(f"$ {shlex.join(argv)}\n# pids {pids} ticks {t0}->{t1} (CLK_TCK {b.CLK_TCK}); "
                f"origin requests during the run: {len(seen)}\n{out}")
        if seen and kind == "hit":
            f.write("# origin requests during the run (first 20):\n" + "\n".join(seen[:20]) + "\n")
    res = b.parse_wrk(out)
    reqs = res["requests"] or 0
    res["cpu_us_per_req"] = ((t1 - t0) / b.CLK_TCK) / reqs * 1e6 if reqs else None
    res["origin_cpu_us_per_req"] = ((o1 - o0) / b.CLK_TCK) / reqs * 1e6 if reqs else None
    res["origin_requests"] = len(seen)
    tot, idle = h1[0] - h0[0], h1[1] - h0[1]
    wrk_ticks = ((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)) * b.CLK_TCK
    res["host_busy_pct"] = 100.0 * (tot - idle) / tot if tot else None
    res["other_cpu_pct"] = (max(0.0, 100.0 * (tot - idle - (t1 - t0) - (o1 - o0) - wrk_ticks) / tot)
                            if tot else None)
    res.update(kind=kind, proxy=proxy, size=size_name, round=rnd, cmd=shlex.join(argv))
    b.log(f"{kind:<4} {size_name:>5} r{rnd} {proxy:<10} {res['rps'] or 0:>9.0f} req/s "
          f"p50 {b.fmt(res['p50_ms'], 3)}ms p99 {b.fmt(res['p99_ms'], 3)}ms "
          f"cpu {res['cpu_us_per_req'] or 0:.1f}us/req origin requests {len(seen)} "
          f"host {res['host_busy_pct'] or 0:.0f}% (other jobs {res['other_cpu_pct'] or 0:.0f}%)"
          + (f" ERRORS sock={res['socket_errors']} non2xx={res['non_2xx']}"
             if res["socket_errors"] or res["non_2xx"] else ""))
    return res


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def paired_ratio(results, kind, size, proxy, ref="nginx"):
    """Median over rounds of proxy/ref req/s within the same round (the two runs seconds apart): this VM's
    speed drifts between minutes, so only runs close in time compare like with like."""
    xs = []
    for r in results:
        if r["kind"] != kind or r["size"] != size or r["proxy"] != proxy or not r["rps"]:
            continue
        other = [o for o in results if o["kind"] == kind and o["size"] == size and o["round"] == r["round"]
                 and o["proxy"] == ref and o["rps"]]
        if other:
            xs.append(r["rps"] / other[0]["rps"])
    return statistics.median(xs) if xs else None


def x_or_na(v):
    return "n/a" if v is None else f"{v:.2f}×"


def build_table(results, kind, sizes, proxies, unavailable, probes, fills):
    hit = kind == "hit"
    lines = ["| size | proxy | req/s | p50 ms | p99 ms | CPU µs/req | req/s vs nginx | CPU vs nginx "
             + ("| origin requests: fill+warm-up / measured | hit probe " if hit else "| origin requests / request ")
             + "| host CPU busy % | other jobs CPU % | errors |",
             "|---:|---|---:|---:|---:|---:|---:|---:|" + ("---:|---|" if hit else "---:|") + "---:|---:|---:|"]
    verdicts = []
    for size in sizes:
        cpu_ref = b.med([r for r in results if r["kind"] == kind and r["size"] == size
                         and r["proxy"] == "nginx"], "cpu_us_per_req")
        for proxy in proxies:
            why = unavailable.get(proxy)
            if why:
                lines.append(f"| {size} | {proxy} | n/a |" + " |" * (9 if hit else 8) + f" {proxy}: {why} |")
                if proxy == "portcullis":
                    verdicts.append(f"{kind} {size}: portcullis: {why}")
                continue
            rows = [r for r in results if r["kind"] == kind and r["size"] == size and r["proxy"] == proxy]
            if not rows:
                continue
            m = {k: b.med(rows, k) for k in ("rps", "p50_ms", "p99_ms", "cpu_us_per_req", "host_busy_pct",
                                             "other_cpu_pct")}
            vs = paired_ratio(results, kind, size, proxy) if "nginx" in proxies else None
            cpu_vs = m["cpu_us_per_req"] / cpu_ref if m["cpu_us_per_req"] and cpu_ref else None
            origin = sum(r["origin_requests"] for r in rows)
            errors = sum(r["socket_errors"] + r["non_2xx"] for r in rows)
            if hit:
                pr = probes.get((size, proxy), {})
                probe_txt = "hit" if pr.get("ok") else f"NOT A HIT ({pr.get('why')})"
                origin_txt = f"{fills.get((size, proxy), 'n/a')} / {origin}"
            else:
                reqs = sum(r["requests"] or 0 for r in rows)
                origin_txt = f"{origin / reqs:.2f}" if reqs else "n/a"
            lines.append(f"| {size} | {proxy} | {b.fmt(m['rps'], 0)} | {b.fmt(m['p50_ms'])} | {b.fmt(m['p99_ms'])} "
                         f"| {b.fmt(m['cpu_us_per_req'], 1)} | {x_or_na(vs)} | {x_or_na(cpu_vs)} | {origin_txt} "
                         + (f"| {probe_txt} " if hit else "")
                         + f"| {b.fmt(m['host_busy_pct'], 0)} | {b.fmt(m['other_cpu_pct'], 0)} | {errors} |")
            if hit and proxy == "portcullis" and vs is not None:
                ok = "meets" if vs >= TARGET_VS_NGINX else "BELOW"
                proven = ("" if origin == 0 and probes.get((size, proxy), {}).get("ok")
                          else f"; NOT PROVEN HITS: origin saw {origin} request(s) while measuring, "
                               f"probe {probes.get((size, proxy), {}).get('why')}")
                verdicts.append(f"hit {size}: portcullis/nginx {vs:.2f}× ({ok} the {TARGET_VS_NGINX}× target)"
                                + proven)
            elif hit and origin:
                verdicts.append(f"hit {size}: {proxy}: the origin saw {origin} request(s) while measuring: "
                                f"not all hits")
    return "\n".join(lines), verdicts


def filesystem_of(path):
    """The mount (and type) that holds path: nginx's cache is only as "disk" as this."""
    best = ("?", "?")
    try:
        with open("/proc/mounts") as f:
            for line in f:
                dev, mnt, fstype = line.split()[:3]
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[0]):
                    best = (mnt, fstype)
    except OSError:
        pass
    return f"{best[0]} ({best[1]})"


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
class Cfg:
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=None,
                    help="comma list of: nginx, portcullis, varnish (default: all; varnish only when installed)")
    ap.add_argument("--sizes", default="1k,16k,256k", help="object sizes (default 1k,16k,256k)")
    ap.add_argument("--rounds", type=int, default=b.env_int("BENCH_ROUNDS", 3))
    ap.add_argument("--duration", type=int, default=b.env_int("BENCH_DURATION", 10), help="seconds per hit run")
    ap.add_argument("--out", default=os.path.join(b.RESULTS_DIR, "cache-latest.md"))
    args = ap.parse_args()
    if args.only is None:
        proxies = [p for p in PROXIES if p != "varnish" or shutil.which("varnishd")]
    else:
        proxies = [p.strip() for p in args.only.split(",") if p.strip()]
    for p in proxies:
        if p not in PORTS:
            ap.error(f"unknown proxy {p!r}; expected some of {', '.join(PROXIES)}")
    proxies = [p for p in PROXIES if p in proxies]
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    try:
        for s in sizes:
            parse_size(s)
    except ValueError as e:
        ap.error(str(e))
    if args.rounds < 1 or args.duration < 1:
        ap.error("--rounds and --duration must be at least 1")

    cfg = Cfg()
    cfg.duration = args.duration
    cfg.conns = b.env_int("BENCH_CONNECTIONS", 64)
    cfg.threads = b.env_int("BENCH_THREADS", 2)
    cfg.warm_portcullis = b.env_int("BENCH_WARMUP_PORTCULLIS", 10)
    cfg.warm_other = b.env_int("BENCH_WARMUP", 3)
    cfg.workers = b.env_int("BENCH_WORKERS", 2)
    cfg.backend_workers = b.env_int("BENCH_BACKEND_WORKERS", 2)
    cfg.miss_duration = b.env_int("BENCH_MISS_DURATION", 5)
    cfg.miss_size = (os.environ.get("BENCH_MISS_SIZE") or "16k").lower()
    parse_size(cfg.miss_size)
    java_opts = shlex.split(os.environ.get("PORTCULLIS_JAVA_OPTS") or DEFAULT_JAVA_OPTS)

    b.require_tools(["nginx", "wrk", "curl"] + (["java"] if "portcullis" in proxies else [])
                    + (["varnishd"] if "varnish" in proxies else []), "bench/run.sh cache")
    tmp, jar, tag = b.start_harness("portcullis-cache-bench-", "portcullis" in proxies)
    facts = b.machine_facts()
    facts["varnishd -V"] = (b.cmd_out(["varnishd", "-V"]).splitlines()[0] if shutil.which("varnishd")
                            else "not installed")
    cache_parent = os.environ.get("BENCH_CACHE_DIR") or tmp
    cache_dir = tempfile.mkdtemp(prefix="nginx-cache-", dir=cache_parent)
    os.chmod(cache_dir, 0o777)  # nginx's workers (an unprivileged user) write there
    facts["nginx cache dir filesystem"] = filesystem_of(os.path.realpath(cache_dir))
    started = time.time()
    all_sizes = sizes + ([cfg.miss_size] if cfg.miss_duration > 0 and cfg.miss_size not in sizes else [])
    b.log(f"temp dir {tmp}; proxies {proxies}; sizes {sizes}; rounds {args.rounds}; duration {cfg.duration}s; "
          + (f"cold-miss runs {cfg.miss_duration}s on {cfg.miss_size}" if cfg.miss_duration else "no cold-miss runs"))

    make_objects(tmp, all_sizes)
    miss_script = b.write(os.path.join(tmp, "miss.lua"), MISS_LUA)
    b.check_port_free(ORIGIN_PORT)
    oconf = b.write(os.path.join(tmp, "origin.conf"), origin_conf(tmp, cfg.backend_workers))
    origin_proc = b.start_nginx("origin", oconf, tmp)
    origin = OriginLog(os.path.join(tmp, "origin", "access.log"))
    for s in all_sizes:
        b.wait_ready("origin", ORIGIN_PORT, path=obj_path(s), proc=origin_proc, logpath=origin_proc.logpath)

    commands, unavailable, validate_out = {"origin": " ".join(origin_proc.args)}, {}, None
    if "portcullis" in proxies:
        conf = b.write(os.path.join(tmp, f"portcullis-cache-w{cfg.workers}.yaml"), portcullis_conf(cfg.workers))
        commands["portcullis config"] = open(conf).read()
        why, validate_out = validate_portcullis(jar, conf, java_opts)
        if why:
            unavailable["portcullis"] = why
            b.log(f"portcullis: {why}; `validate` said:\n{validate_out}")
    for proxy in proxies:
        if proxy in unavailable:
            continue
        p, conf, cmd = start_proxy(proxy, cfg.workers, tmp, jar, cache_dir, java_opts)
        if p is None:
            unavailable[proxy] = f"did not start ({cmd.splitlines()[0]})"
            b.log(f"{proxy}: {cmd}")
            continue
        commands[proxy] = cmd
        commands[f"{proxy} config"] = open(conf).read()
    live = [p for p in proxies if p not in unavailable]
    if not live:
        raise SystemExit("ERROR: no proxy to measure: " + "; ".join(f"{k}: {v}" for k, v in unavailable.items()))

    results, probes, fills = [], {}, {}
    for size in sizes:
        path = obj_path(size)
        for proxy in live:
            # fill: one GET (a miss), then the warm-up; the origin should see about one request per proxy
            mark = origin.mark()
            try:
                status, headers, _ = fetch(PORTS[proxy], path)
            except (OSError, http.client.HTTPException) as e:
                status, headers = f"failed: {e}", {}
            b.log(f"fill {proxy} {path}: {status} {HIT_HEADERS[proxy]}: {headers.get(HIT_HEADERS[proxy].lower())!r}")
            wd = cfg.warm_portcullis if proxy == "portcullis" else cfg.warm_other
            if wd > 0:
                b.log(f"warm-up {proxy} {size} {wd}s")
                b.run_wrk(wrk_argv(PORTS[proxy], path, wd, cfg.conns, cfg.threads), wd)
            fills[(size, proxy)] = len(origin.since(mark))
            probes[(size, proxy)] = probe(proxy, path, parse_size(size), origin)
            b.log(f"probe {proxy} {size}: {probes[(size, proxy)]}; origin requests for fill+warm-up: "
                  f"{fills[(size, proxy)]}")
        for rnd in range(1, args.rounds + 1):
            k = (rnd - 1) % len(live)  # the order rotates: no proxy always runs first or last
            for proxy in live[k:] + live[:k]:
                results.append(measure("hit", proxy, size, rnd, cfg, origin, origin_proc.pid, tag))
    if cfg.miss_duration > 0:
        # after every hit run: the misses fill the caches with thousands of objects
        for rnd in range(1, args.rounds + 1):
            k = (rnd - 1) % len(live)
            for proxy in live[k:] + live[:k]:
                results.append(measure("miss", proxy, cfg.miss_size, rnd, cfg, origin, origin_proc.pid, tag,
                                       miss_script))
    for proxy in live:
        b.PROCS.stop(PROC_NAMES[proxy])
    b.PROCS.stop("origin")

    facts["load average at end"] = open("/proc/loadavg").read().strip()
    hit_table, verdicts = build_table(results, "hit", sizes, proxies, unavailable, probes, fills)
    miss_table, _ = (build_table(results, "miss", [cfg.miss_size], proxies, unavailable, probes, fills)
                     if cfg.miss_duration > 0 else ("", []))
    elapsed = time.time() - started
    print("Cache hits (median of rounds; req/s vs nginx: median of the per-round ratios)\n")
    print(hit_table)
    if miss_table:
        print(f"\nCold misses: a new URL per request ({cfg.miss_size} objects, {cfg.miss_duration}s runs)\n")
        print(miss_table)
    print()
    for v in verdicts:
        print(f"- {v}")

    load_cmds = sorted({re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", re.sub(r"-- \S+ ", "-- PREFIX ", r["cmd"]))
                        for r in results})
    run_cmd = f"bench/run.sh cache {' '.join(shlex.quote(a) for a in sys.argv[1:])}".rstrip()
    md = [f"# Portcullis cache-hit benchmark — {tag}", "",
          f"Run: `{run_cmd}` (duration {cfg.duration}s, rounds {args.rounds}, BENCH_CONNECTIONS={cfg.conns}, "
          f"BENCH_THREADS={cfg.threads}, BENCH_WORKERS={cfg.workers}, warm-up {cfg.warm_other}s / Portcullis "
          f"{cfg.warm_portcullis}s per size, cold misses {cfg.miss_duration}s on {cfg.miss_size}) — took "
          f"{elapsed / 60:.1f} min.", "", "## Machine and tools", ""]
    md += [f"- **{k}**: `{v}`" for k, v in facts.items()]
    md += ["", "## Cache hits (median of rounds; ratios: median of the per-round ratios)", "", hit_table, ""]
    md += [f"- {v}" for v in verdicts]
    if miss_table:
        md += ["", f"## Cold misses (a new URL per request, {cfg.miss_size})", "", miss_table, ""]
    md += ["", "Origin requests are counted from the origin's access log around each run: a hit run must show 0. "
           "The probe is one GET after fill and warm-up, judged by the proxy's own marker (nginx "
           "`X-Cache-Status: HIT`, Varnish `X-Cache: HIT` from `obj.hits`, Portcullis `Cache-Status: portcullis; "
           "hit`) with the origin seeing nothing. nginx's cache is disk-backed; its hot objects are read through "
           "the page cache (how it runs in production). CPU µs/req is the proxy's processes only.", ""]
    md += ["## Probes", ""] + [f"- {s} {p}: `{json.dumps(v)}`" for (s, p), v in probes.items()]
    if validate_out is not None:
        md += ["", "## Portcullis `validate`", "", "```", validate_out, "```"]
    md += ["", "## Commands", ""] + [f"    {c}" for c in load_cmds]
    md += ["", f"Ports: origin {ORIGIN_PORT}, " + ", ".join(f"{p} {PORTS[p]}" for p in proxies)
           + f", Portcullis admin {ADMIN_PORT}.", ""]
    for k, v in commands.items():
        if "config" in k:
            md += [f"<details><summary>{k}</summary>", "", "```", v.strip(), "```", "", "</details>", ""]
        else:
            md += [f"- {k}: `{v}`"]
    md += ["", "<details><summary>origin nginx config</summary>", "", "```", open(oconf).read().strip(), "```",
           "", "</details>", ""]
    with open(args.out, "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(b.RAW_DIR, f"cache_{tag}_results.json"), "w") as f:
        json.dump({"facts": facts, "runs": results, "unavailable": unavailable, "validate": validate_out,
                   "probes": {f"{s} {p}": v for (s, p), v in probes.items()},
                   "fills": {f"{s} {p}": v for (s, p), v in fills.items()}}, f, indent=1)
    b.log(f"wrote {args.out} and {b.RAW_DIR}/cache_{tag}_*; took {elapsed:.0f}s")
    shutil.rmtree(cache_dir, ignore_errors=True)  # outside tmp when BENCH_CACHE_DIR is set
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
