#!/usr/bin/env python3
"""Forward-proxy benchmark: Portcullis (`mode: forward`) beside Squid, plain GETs and CONNECT tunnels.

Issue 6 asks for Portcullis at >= 1.5x Squid's req/s on forward-proxied GETs and >= 1.0x its MB/s through
CONNECT tunnels. Everything runs on 127.0.0.1:

    origin      127.0.0.1:18080   nginx (2 workers): /small (13 B), /16k, /big (64 MiB, the tunnels' payload),
                                  /status (stub_status: the harness counts the origin's requests with it)
    squid       127.0.0.1:18281   squid --foreground, `workers 2` (SMP; falls back to 1 if that does not
                                  start), `cache deny all` + `cache_mem 0 MB` (no caching), access_log none,
                                  ACLs: clients 127.0.0.0/8, destinations 127.0.0.0/8, CONNECT only to the
                                  origin's port
    portcullis  127.0.0.1:18283   `mode: forward`, workers 2, `forward: { clients: [127.0.0.0/8],
                                  deny_private_destinations: false, connect_ports: [ORIGIN], anonymize: off }`,
                                  no cache; admin 127.0.0.1:19907

Neither proxy caches: every GET goes to the origin, which the harness checks (origin requests per request
must read 1.00). `anonymize: off` makes Portcullis add `Via` and `X-Forwarded-For` as Squid does by default,
so both do the same header work (BENCH_ANONYMIZE changes it).

1. Forward GETs: wrk pointed at the proxy's port with a Lua script that sets the request target to
   absolute-form, so wrk sends `GET http://127.0.0.1:18080/small HTTP/1.1` with `Host: 127.0.0.1:18080` over
   keep-alive connections, as `curl -x` does. `wrk -t2 -c64 -d10s --latency`. The `direct` row is wrk at the
   origin itself (origin-form): the ceiling without a proxy.
2. CONNECT tunnels: N client processes (8) each open one tunnel (`CONNECT 127.0.0.1:18080`) and then GET
   /big over keep-alive inside it, again and again, for D seconds, reading with recv_into into a 1 MiB
   buffer; MB/s (10^6 bytes) of everything received. The tunnels are set up before the clock starts: this is
   relay throughput, not tunnel set-up. The `direct` row is the same clients straight at the origin: the
   ceiling of the load generator and the origin together.

Rounds interleave the proxies (the order rotates each round); ratios vs Squid are the median of the
per-round ratios (runs seconds apart, as `run.sh cache` and `run.sh tls` do). CPU is utime+stime from
/proc of each proxy's whole process tree (Squid: the master, the coordinator and the workers; Portcullis:
the java process), per request and per MB. Reuses bench/bench.py's helpers (`import bench as b`).

Run through bench/run.sh (which installs nginx, wrk, curl and squid when missing):
    bench/run.sh forward [--rounds 3] [--duration 10] [--tests get,tunnel] [--bodies small,16k]
                         [--only squid,portcullis,direct]
Environment: BENCH_DURATION (10 s), BENCH_ROUNDS (3), BENCH_CONNECTIONS (64: wrk), BENCH_THREADS (2: wrk),
BENCH_TUNNELS (8 tunnel clients), BENCH_TUNNEL_OBJECT (64m), BENCH_WARMUP (3 s), BENCH_WARMUP_PORTCULLIS
(10 s), BENCH_WORKERS (2: Squid workers, Portcullis workers), BENCH_BACKEND_WORKERS (2: the origin),
BENCH_ANONYMIZE (off), BENCH_ORIGIN_PORT (18080), PORTCULLIS_JAVA_OPTS ("-Xms256m -Xmx256m
-XX:+UseParallelGC"), PORTCULLIS_JAR.
"""
import argparse
import http.client
import json
import os
import re
import resource
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing bench.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b  # noqa: E402

ORIGIN_PORT = b.env_int("BENCH_ORIGIN_PORT", b.BACKEND_PORT)
PORTS = {"squid": 18281, "portcullis": 18283}
ADMIN_PORT = 19907
PROXIES = ["squid", "portcullis", "direct"]
PROC_NAMES = {"squid": "squid-forward", "portcullis": "portcullis-forward", "direct": "origin"}
BODIES = {"small": "/small", "16k": "/16k"}
SMALL_BODY = "hello world!\n"
# Issue 6: forward GETs at >= 1.5x Squid's req/s, CONNECT tunnels at >= 1.0x its MB/s.
TARGET_GET = 1.5
TARGET_TUNNEL = 1.0
DEFAULT_JAVA_OPTS = "-Xms256m -Xmx256m -XX:+UseParallelGC"  # what bench.py, tls_bench.py, lb_throughput.py use
SQUID_SERVICE = "pcfbench"  # squid -n: names its shared memory segments and IPC sockets apart from a system squid
MB = 1e6
RECV_BUF = 1 << 20


def parse_size(text):
    m = re.fullmatch(r"(\d+)([kKmM]?)", text.strip())
    if not m:
        raise ValueError(f"bad size {text!r}: use e.g. 16m, 64m")
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]


# --------------------------------------------------------------------------
# The tunnel client (run as its own process: `forward_bench.py --tunnel-client JSON`)
# --------------------------------------------------------------------------
def _read_head(s, buf, mv):
    """Reads until the end of an HTTP head; returns (head bytes, bytes of the body already read)."""
    got = 0
    while True:
        n = s.recv_into(mv[got:])
        if n == 0:
            raise ConnectionError("closed before the end of the head")
        got += n
        end = buf.find(b"\r\n\r\n", 0, got)
        if end >= 0:
            return bytes(buf[:end + 4]), got - end - 4
        if got >= 65536:
            raise ConnectionError("head over 64 KiB")


def tunnel_client(spec):
    """One connection: a CONNECT tunnel through spec['proxy'] (or straight to the origin when None), then GETs of
    spec['path'] over keep-alive inside it. Once the tunnel is up it prints "ready" and reads the common start
    time from stdin; it relays for spec['duration'] seconds from then. Prints a JSON line: bytes received in the
    window, the window, this process's CPU in the window, GETs completed, how late it started, error."""
    buf = bytearray(RECV_BUF)
    mv = memoryview(buf)
    res = {"bytes": 0, "gets": 0, "error": None, "cpu_s": 0.0, "seconds": 0.0}
    target = spec["target"]
    try:
        host, port = (spec["proxy"] or target).rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=30)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if spec["proxy"]:
            s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
            head, extra = _read_head(s, buf, mv)
            status = head.split(b"\r\n", 1)[0]
            if not re.match(rb"HTTP/1\.[01] 200", status) or extra:
                raise ConnectionError(f"CONNECT answered {status!r} (+{extra} bytes)")
        req = f"GET {spec['path']} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()
        # the tunnel is up: say so, and wait for the harness's common start time (once every client is ready)
        print("ready", flush=True)
        start = float(sys.stdin.readline() or "nan")
        if start != start:
            raise ConnectionError("no start time from the harness")
        time.sleep(max(0.0, start - time.time()))
        res["late_s"] = round(time.time() - start, 3)  # > 0.1: this client started after the clock
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        end = t0 + spec["duration"]
        total = 0
        while time.monotonic() < end:
            s.sendall(req)
            head, body = _read_head(s, buf, mv)
            total += len(head) + body
            m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
            if not head.startswith(b"HTTP/1.1 200") or not m:
                raise ConnectionError(f"GET answered {head[:80]!r}")
            left = int(m.group(1)) - body
            while left > 0:
                n = s.recv_into(mv[:min(left, RECV_BUF)])
                if n == 0:
                    raise ConnectionError(f"closed with {left} bytes of the body to come")
                total += n
                left -= n
                if left and time.monotonic() >= end:
                    break
            else:
                res["gets"] += 1
        t1 = time.monotonic()
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        res.update(bytes=total, seconds=t1 - t0,
                   cpu_s=(ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime))
        s.close()
    except (OSError, ValueError) as e:
        res["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(res), flush=True)


# --------------------------------------------------------------------------
# Origin
# --------------------------------------------------------------------------
def make_bodies(tmp, big_bytes):
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    block = bytes(range(256))
    with open(os.path.join(www, "16k"), "wb") as f:
        f.write(block * (16 * 1024 // 256))
    chunk = block * 4096  # 1 MiB
    with open(os.path.join(www, "big"), "wb") as f:
        left = big_bytes
        while left > 0:
            f.write(chunk[:min(left, len(chunk))])
            left -= len(chunk)
    # nginx workers may run as an unprivileged user; Squid runs as `proxy` when started as root
    for p in (tmp, www):
        os.chmod(p, 0o755)
    for n in os.listdir(www):
        os.chmod(os.path.join(www, n), 0o644)


def origin_conf(tmp, workers):
    d, temps = b.nginx_common(tmp, "origin")
    www = os.path.join(tmp, "www")
    return f"""# generated by bench/forward_bench.py: the origin behind both forward proxies
{b.nginx_main(d, workers)}http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    default_type application/octet-stream;
{temps}
    server {{
        listen {b.HOST}:{ORIGIN_PORT} backlog=4096;
        root {www};
        location = /small {{
            default_type text/plain;
            return 200 "{SMALL_BODY.rstrip(chr(10))}\\n";
        }}
        location = /health {{
            default_type text/plain;
            return 200 "ok\\n";
        }}
        # the harness reads the request counter around each run: every forwarded GET must reach the origin
        location = /status {{ stub_status; }}
        location / {{ }}
    }}
}}
"""


def origin_counters():
    """stub_status's counters: (connections accepted, requests), this status request and its connection
    included."""
    c = http.client.HTTPConnection(b.HOST, ORIGIN_PORT, timeout=10)
    try:
        c.request("GET", "/status")
        text = c.getresponse().read().decode()
    finally:
        c.close()
    m = re.search(r"\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n", text)
    return int(m.group(1)), int(m.group(3))


def origin_requests():
    return origin_counters()[1]


def origin_quiet(timeout=5.0):
    """Waits until the origin sees no request but ours for 0.3 s: a proxy may still be forwarding requests that wrk
    abandoned when its previous run ended, and they must not be counted in the next probe or run."""
    deadline = time.time() + timeout
    last = origin_requests()
    while time.time() < deadline:
        time.sleep(0.3)
        now = origin_requests()
        if now - last == 1:
            return
        last = now
    b.log("warning: the origin kept receiving requests between runs")


# --------------------------------------------------------------------------
# Proxies
# --------------------------------------------------------------------------
def squid_conf(tmp, workers):
    d = os.path.join(tmp, PROC_NAMES["squid"])
    return f"""# generated by bench/forward_bench.py: Squid as a forward proxy, no cache, no access log
http_port {b.HOST}:{PORTS['squid']}
workers {workers}
# no caching: every GET goes to the origin (Portcullis has no cache here either)
cache deny all
cache_mem 0 MB
access_log none
cache_store_log none
cache_log {d}/cache.log
pid_filename {d}/squid.pid
coredump_dir {d}
pinger_enable off
shutdown_lifetime 1 seconds
# clients and destinations on loopback only; CONNECT only to the origin's port
acl bench_clients src 127.0.0.0/8
acl bench_dst dst 127.0.0.0/8
acl bench_connect_ports port {ORIGIN_PORT}
acl CONNECT method CONNECT
http_access deny CONNECT !bench_connect_ports
http_access allow bench_clients bench_dst
http_access deny all
"""


def portcullis_conf(workers, anonymize):
    return f"""# generated by bench/forward_bench.py
workers: {workers}
transport: auto
admin: {{ bind: {b.HOST}:{ADMIN_PORT} }}
access_log: {{ path: off }}
listeners:
  - name: forward-bench
    bind: {b.HOST}:{PORTS['portcullis']}
    mode: forward
    forward:
      clients: [127.0.0.0/8]
      deny_private_destinations: false   # the origin is on 127.0.0.1
      connect_ports: [{ORIGIN_PORT}]
      anonymize: {anonymize}
"""


def wait_ready_proxy(name, port, proc, timeout=30.0):
    """The proxy answers 200 for an absolute-form GET of the origin's /health (curl -x)."""
    url = f"http://{b.HOST}:{ORIGIN_PORT}/health"
    deadline, last = time.time() + timeout, ""
    while time.time() < deadline:
        if proc.poll() is not None:
            return f"exited with code {proc.returncode}"
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2",
                            "-x", f"http://{b.HOST}:{port}", url], capture_output=True, text=True)
        last = r.stdout.strip() or f"curl rc={r.returncode}"
        if last == "200":
            b.log(f"{name} answers 200 for {url} through 127.0.0.1:{port}")
            return None
        time.sleep(0.25)
    return f"no 200 within {timeout:.0f}s (last: {last})"


def log_tail(path, n=20):
    try:
        return "".join(open(path, errors="replace").readlines()[-n:])
    except OSError:
        return ""


def start_squid(tmp, workers):
    """Starts Squid with `workers` SMP workers; if that does not come up, once more with 1. Returns
    (proc, conf path, command, workers it runs with, note)."""
    d = os.path.join(tmp, PROC_NAMES["squid"])
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)  # started as root, Squid's processes run as its cache_effective_user (proxy on Debian)
    note = None
    for w in ([workers, 1] if workers > 1 else [1]):
        conf = b.write(os.path.join(tmp, f"squid-w{w}.conf"), squid_conf(tmp, w))
        t = subprocess.run(["squid", "-k", "parse", "-f", conf], capture_output=True, text=True)
        if t.returncode != 0:
            raise SystemExit(f"ERROR: squid -k parse failed:\n{t.stdout}{t.stderr}")
        # --foreground: the master stays in the foreground with its kids (-N would mean no SMP workers)
        argv = ["squid", "--foreground", "-f", conf, "-n", SQUID_SERVICE]
        p = b.PROCS.start(PROC_NAMES["squid"], argv, os.path.join(tmp, "squid.out"))
        why = wait_ready_proxy("squid", PORTS["squid"], p)
        if why is None:
            return p, conf, " ".join(argv), w, note
        b.log(f"squid with workers {w}: {why}\n{log_tail(os.path.join(d, 'cache.log'))}")
        b.PROCS.stop(PROC_NAMES["squid"])
        note = f"squid did not start with workers {w} ({why}); see its cache.log"
    raise SystemExit(f"ERROR: squid did not start: {note}")


def validate_portcullis(jar, conf, java_opts):
    argv = ["java"] + java_opts + ["-jar", jar, "validate", "-c", conf]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=b.REPO_ROOT, timeout=120)
    return r.returncode, (r.stdout + r.stderr).strip()


def start_portcullis(tmp, workers, jar, java_opts, anonymize):
    b.check_port_free(ADMIN_PORT)
    conf = b.write(os.path.join(tmp, f"portcullis-forward-w{workers}.yaml"), portcullis_conf(workers, anonymize))
    rc, out = validate_portcullis(jar, conf, java_opts)
    if rc != 0:
        return None, conf, f"config refused by validate (exit {rc}): {out}"
    argv = ["java"] + java_opts + ["-jar", jar, "run", "-c", conf]
    p = b.PROCS.start(PROC_NAMES["portcullis"], argv, os.path.join(tmp, "portcullis-forward.out"), cwd=b.REPO_ROOT)
    why = wait_ready_proxy("portcullis", PORTS["portcullis"], p)
    if why:
        b.PROCS.stop(PROC_NAMES["portcullis"])
        return None, conf, f"did not start: {why}\n{log_tail(p.logpath)}"
    return p, conf, " ".join(argv)


# --------------------------------------------------------------------------
# Probes: what each proxy does with one request of each kind
# --------------------------------------------------------------------------
def probe_get(proxy, body):
    """Two absolute-form GETs through the proxy (or one origin-form GET straight at the origin): status, size,
    the headers that show caching (Squid's X-Cache) and Via, and how many requests the origin saw."""
    url = f"http://{b.HOST}:{ORIGIN_PORT}{BODIES[body]}"
    port, target = (ORIGIN_PORT, BODIES[body]) if proxy == "direct" else (PORTS[proxy], url)
    origin_quiet()
    before = origin_requests()
    out = []
    for _ in range(2):
        c = http.client.HTTPConnection(b.HOST, port, timeout=10)
        try:
            c.request("GET", target, headers={"Host": f"{b.HOST}:{ORIGIN_PORT}"})
            r = c.getresponse()
            n = len(r.read())
            out.append({"status": r.status, "bytes": n, "via": r.getheader("Via"),
                        "x-cache": r.getheader("X-Cache")})
        except (OSError, http.client.HTTPException) as e:
            out.append({"error": str(e)})
        finally:
            c.close()
    seen = origin_requests() - before - 1
    want = len(SMALL_BODY) if body == "small" else 16 * 1024
    ok = all(o.get("status") == 200 and o.get("bytes") == want for o in out) and seen == 2
    return {"ok": ok, "responses": out, "origin requests": seen}


def probe_tunnel(proxy, cfg):
    """One client for 1 s: the tunnel opens, and a whole /big crosses it at least once."""
    r = run_tunnel_clients(proxy, 1, 1.0, cfg)[0]
    return {"ok": r.get("error") is None and r.get("gets", 0) >= 1, **r}


# --------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------
GET_LUA = """-- generated by bench/forward_bench.py: absolute-form requests, as a client set up with a proxy sends them.
-- wrk connects to the proxy's port (its URL argument); the request line names the origin:
--   GET http://127.0.0.1:ORIGIN/PATH HTTP/1.1
--   Host: 127.0.0.1:ORIGIN
-- Setting wrk.path and the Host header here (rather than a request() function) keeps wrk's static
-- request: wrk.format() builds it once per thread, the same cost as any plain wrk run.
wrk.path = "{url}"
wrk.headers["Host"] = "{authority}"
"""


def wrk_get_argv(proxy, body, duration, cfg, scripts):
    argv = ["wrk", f"-t{cfg.threads}", f"-c{cfg.conns}", f"-d{duration}s", "--latency"]
    if proxy == "direct":
        return argv + [f"http://{b.HOST}:{ORIGIN_PORT}{BODIES[body]}"]
    return argv + ["-s", scripts[body], f"http://{b.HOST}:{PORTS[proxy]}/"]


def snapshot(proxy, origin_pid):
    pids = b.process_tree(b.PROCS.procs[PROC_NAMES[proxy]].pid) if proxy != "direct" else []
    opids = b.process_tree(origin_pid)
    return {"pids": pids, "ticks": b.cpu_ticks(pids), "oticks": b.cpu_ticks(opids), "host": b.host_cpu()}


def account(res, proxy, s0, s1, load_ticks, units, unit_name, scale):
    """CPU per unit for the proxy and the origin, host busy %, load generator %, other jobs %."""
    pt, ot = s1["ticks"] - s0["ticks"], s1["oticks"] - s0["oticks"]
    res[f"cpu_us_per_{unit_name}"] = (pt / b.CLK_TCK) / units * scale if units and proxy != "direct" else None
    res[f"origin_cpu_us_per_{unit_name}"] = (ot / b.CLK_TCK) / units * scale if units else None
    tot, idle = s1["host"][0] - s0["host"][0], s1["host"][1] - s0["host"][1]
    res["host_busy_pct"] = 100.0 * (tot - idle) / tot if tot else None
    res["load_cpu_pct"] = 100.0 * load_ticks / tot if tot else None
    res["other_cpu_pct"] = max(0.0, 100.0 * (tot - idle - pt - ot - load_ticks) / tot) if tot else None


def measure_get(proxy, body, rnd, cfg, origin_pid, tag, scripts):
    argv = wrk_get_argv(proxy, body, cfg.duration, cfg, scripts)
    origin_quiet()
    c0, o0 = origin_counters()
    s0 = snapshot(proxy, origin_pid)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = b.run_wrk(argv, cfg.duration)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s1 = snapshot(proxy, origin_pid)
    c1, o1 = origin_counters()
    seen, conns = o1 - o0 - 1, c1 - c0 - 1
    res = b.parse_wrk(out)
    reqs = res["requests"] or 0
    wrk_ticks = ((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)) * b.CLK_TCK
    account(res, proxy, s0, s1, wrk_ticks, reqs, "req", 1e6)
    res["origin_requests"] = seen
    res["origin_connections"] = conns  # new connections the origin accepted during the run (keep-alive reuse)
    res.update(test="get", proxy=proxy, body=body, round=rnd, cmd=shlex.join(argv))
    with open(os.path.join(b.RAW_DIR, f"forward_{tag}_get_{body}_r{rnd}_{proxy}.txt"), "w") as f:
        f.write(f"$ {shlex.join(argv)}\n# pids {s0['pids']} ticks {s0['ticks']}->{s1['ticks']} "
                f"(CLK_TCK {b.CLK_TCK}); origin requests during the run: {seen}, "
                f"new origin connections: {conns}\n{out}")
    b.log(f"get {body:>5} r{rnd} {proxy:<10} {res['rps'] or 0:>9.0f} req/s "
          f"p50 {b.fmt(res['p50_ms'], 3)}ms p99 {b.fmt(res['p99_ms'], 3)}ms "
          f"cpu {b.fmt(res['cpu_us_per_req'], 1)}us/req origin {seen / reqs if reqs else 0:.2f}/req, {conns} conns "
          f"host {res['host_busy_pct'] or 0:.0f}% (other jobs {res['other_cpu_pct'] or 0:.0f}%)"
          + (f" ERRORS sock={res['socket_errors']} non2xx={res['non_2xx']}"
             if res["socket_errors"] or res["non_2xx"] else ""))
    return res


def run_tunnel_clients(proxy, n, duration, cfg, on_start=None):
    """Starts n client processes; each opens its tunnel and prints "ready"; once all are ready (or gone), they get
    a common start time 0.2 s ahead, relay for duration seconds and print their counts. on_start(), when given,
    runs at the start time (the CPU snapshot)."""
    spec = {"proxy": None if proxy == "direct" else f"{b.HOST}:{PORTS[proxy]}",
            "target": f"{b.HOST}:{ORIGIN_PORT}", "path": "/big", "duration": duration}
    procs = []
    for i in range(n):
        argv = [sys.executable, os.path.abspath(__file__), "--tunnel-client", json.dumps(spec)]
        name, path = f"tunnel-client-{i}", os.path.join(cfg.tmp, f"tunnel-client-{i}.out")
        with open(path, "wb") as out:  # not b.PROCS.start: the same bookkeeping (pidfile), without a log line each
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.PIPE)
        p.logpath = path
        b.PROCS.procs[name] = p
        procs.append((name, p))
    b.PROCS._write_pidfile()
    deadline = time.time() + 60
    while time.time() < deadline:
        if all(p.poll() is not None or open(p.logpath, "rb").read(6) == b"ready\n" for _, p in procs):
            break
        time.sleep(0.02)
    start = time.time() + 0.2
    for _, p in procs:
        try:
            p.stdin.write(f"{start}\n".encode())
            p.stdin.close()
        except OSError:  # a client that failed its set-up has exited; its error is in its output
            pass
    time.sleep(max(0.0, start - time.time()))
    snap = on_start() if on_start else None
    results = []
    for name, p in procs:
        try:
            p.wait(duration + 60)
        except subprocess.TimeoutExpired:
            pass
        b.PROCS.stop(name)
        try:
            line = open(p.logpath).read().strip().splitlines()[-1]
            results.append(json.loads(line))
        except (OSError, IndexError, ValueError) as e:
            results.append({"bytes": 0, "gets": 0, "cpu_s": 0.0, "seconds": 0.0,
                            "error": f"no result from {name} ({e}): {log_tail(p.logpath, 5)}"})
        os.unlink(p.logpath)
    if on_start:
        return results, snap
    return results


def measure_tunnel(proxy, rnd, cfg, origin_pid, tag):
    results, s0 = run_tunnel_clients(proxy, cfg.tunnels, cfg.duration, cfg,
                                     on_start=lambda: snapshot(proxy, origin_pid))
    s1 = snapshot(proxy, origin_pid)
    total = sum(r["bytes"] for r in results)
    secs = max((r["seconds"] for r in results), default=0.0)
    errors = [r["error"] for r in results if r.get("error")]
    late = max((r.get("late_s", 0.0) for r in results), default=0.0)
    if late > 0.1:
        b.log(f"warning: a tunnel client started {late:.2f}s after the clock (busy machine)")
    res = {"mbps": total / MB / secs if secs else None, "bytes": total, "seconds": secs,
           "gets": sum(r["gets"] for r in results), "errors": len(errors), "error_texts": errors[:3], "late_s": late,
           "per_client_mbps": [round(r["bytes"] / MB / r["seconds"], 1) if r["seconds"] else 0 for r in results]}
    load_ticks = sum(r["cpu_s"] for r in results) * b.CLK_TCK
    account(res, proxy, s0, s1, load_ticks, total / MB, "mb", 1e6)
    res.update(test="tunnel", proxy=proxy, round=rnd, clients=cfg.tunnels,
               cmd=f"{cfg.tunnels} x forward_bench.py --tunnel-client (CONNECT, then GET /big in a loop)")
    with open(os.path.join(b.RAW_DIR, f"forward_{tag}_tunnel_r{rnd}_{proxy}.json"), "w") as f:
        json.dump({"snapshots": [s0, s1], "clients": results, "result": res}, f, indent=1)
    b.log(f"tunnel r{rnd} {proxy:<10} {res['mbps'] or 0:>8.0f} MB/s "
          f"cpu {b.fmt(res['cpu_us_per_mb'], 0)}us/MB clients {res['load_cpu_pct'] or 0:.0f}% "
          f"host {res['host_busy_pct'] or 0:.0f}% (other jobs {res['other_cpu_pct'] or 0:.0f}%)"
          + (f" ERRORS {len(errors)}: {errors[0]}" if errors else ""))
    return res


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def paired_ratio(results, test, body, proxy, key, ref="squid"):
    """Median over rounds of proxy/ref within one round (runs seconds apart): this VM's speed drifts."""
    xs = []
    for r in results:
        if r["test"] != test or r.get("body") != body or r["proxy"] != proxy or not r.get(key):
            continue
        other = [o for o in results if o["test"] == test and o.get("body") == body and o["round"] == r["round"]
                 and o["proxy"] == ref and o.get(key)]
        if other:
            xs.append(r[key] / other[0][key])
    return statistics.median(xs) if xs else None


def x_or_na(v):
    return "n/a" if v is None else f"{v:.2f}×"


def spread(rows, key, unit):
    """"; rounds A–B unit" when there were several rounds: how far apart they were."""
    vals = [r[key] for r in rows if r.get(key)]
    if len(vals) < 2:
        return ""
    return f"; rounds {min(vals):,.0f}–{max(vals):,.0f} {unit}"


def get_table(results, bodies, proxies, unavailable):
    lines = ["| body | proxy | req/s | p50 ms | p99 ms | CPU µs/req | req/s vs squid | CPU vs squid "
             "| origin requests / request | new origin connections | origin CPU µs/req | wrk CPU % "
             "| host CPU busy % | other jobs CPU % | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    verdicts = []
    for body in bodies:
        cpu_ref = b.med([r for r in results if r["test"] == "get" and r["body"] == body and r["proxy"] == "squid"],
                        "cpu_us_per_req")
        for proxy in proxies:
            if proxy in unavailable:
                lines.append(f"| {body} | {proxy} | n/a |" + " |" * 11 + f" {proxy}: {unavailable[proxy]} |")
                if proxy == "portcullis":
                    verdicts.append(f"GET {body}: portcullis: {unavailable[proxy]}")
                continue
            rows = [r for r in results if r["test"] == "get" and r["body"] == body and r["proxy"] == proxy]
            if not rows:
                continue
            m = {k: b.med(rows, k) for k in ("rps", "p50_ms", "p99_ms", "cpu_us_per_req", "origin_cpu_us_per_req",
                                             "load_cpu_pct", "host_busy_pct", "other_cpu_pct")}
            vs = paired_ratio(results, "get", body, proxy, "rps") if proxy != "squid" else 1.0
            cpu_vs = m["cpu_us_per_req"] / cpu_ref if m["cpu_us_per_req"] and cpu_ref else None
            reqs = sum(r["requests"] or 0 for r in rows)
            origin = sum(r["origin_requests"] for r in rows)
            conns = sum(r["origin_connections"] for r in rows)
            errors = sum(r["socket_errors"] + r["non_2xx"] for r in rows)
            lines.append(f"| {body} | {proxy} | {b.fmt(m['rps'], 0)} | {b.fmt(m['p50_ms'])} | {b.fmt(m['p99_ms'])} "
                         f"| {b.fmt(m['cpu_us_per_req'], 1)} | {x_or_na(vs) if 'squid' in proxies else 'n/a'} "
                         f"| {x_or_na(cpu_vs)} | {origin / reqs if reqs else 0:.2f} | {conns} "
                         f"| {b.fmt(m['origin_cpu_us_per_req'], 1)} | {b.fmt(m['load_cpu_pct'], 0)} "
                         f"| {b.fmt(m['host_busy_pct'], 0)} | {b.fmt(m['other_cpu_pct'], 0)} | {errors} |")
            if proxy == "portcullis" and "squid" in proxies and vs is not None:
                ok = "meets" if vs >= TARGET_GET else "BELOW"
                verdicts.append(f"GET {body}: portcullis/squid {vs:.2f}× req/s ({ok} the {TARGET_GET}× target; "
                                f"CPU per request {x_or_na(cpu_vs)} Squid's{spread(rows, 'rps', 'req/s')})")
    return "\n".join(lines), verdicts


def tunnel_table(results, proxies, unavailable):
    lines = ["| proxy | MB/s | CPU µs/MB | MB/s vs squid | CPU vs squid | % of direct | origin CPU µs/MB "
             "| client CPU % | host CPU busy % | other jobs CPU % | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    verdicts = []
    rows_of = {p: [r for r in results if r["test"] == "tunnel" and r["proxy"] == p] for p in proxies}
    cpu_ref = b.med(rows_of.get("squid", []), "cpu_us_per_mb")
    direct = b.med(rows_of.get("direct", []), "mbps")
    for proxy in proxies:
        if proxy in unavailable:
            lines.append(f"| {proxy} | n/a |" + " |" * 8 + f" {proxy}: {unavailable[proxy]} |")
            if proxy == "portcullis":
                verdicts.append(f"tunnels: portcullis: {unavailable[proxy]}")
            continue
        rows = rows_of[proxy]
        if not rows:
            continue
        m = {k: b.med(rows, k) for k in ("mbps", "cpu_us_per_mb", "origin_cpu_us_per_mb", "load_cpu_pct",
                                         "host_busy_pct", "other_cpu_pct")}
        vs = paired_ratio(results, "tunnel", None, proxy, "mbps") if proxy != "squid" else 1.0
        cpu_vs = m["cpu_us_per_mb"] / cpu_ref if m["cpu_us_per_mb"] and cpu_ref else None
        of_direct = f"{100.0 * m['mbps'] / direct:.0f}%" if direct and m["mbps"] else "n/a"
        errors = sum(r["errors"] for r in rows)
        lines.append(f"| {proxy} | {b.fmt(m['mbps'], 0)} | {b.fmt(m['cpu_us_per_mb'], 0)} "
                     f"| {x_or_na(vs) if 'squid' in proxies else 'n/a'} | {x_or_na(cpu_vs)} | {of_direct} "
                     f"| {b.fmt(m['origin_cpu_us_per_mb'], 0)} | {b.fmt(m['load_cpu_pct'], 0)} "
                     f"| {b.fmt(m['host_busy_pct'], 0)} | {b.fmt(m['other_cpu_pct'], 0)} | {errors} |")
        if proxy == "portcullis" and "squid" in proxies and vs is not None:
            ok = "meets" if vs >= TARGET_TUNNEL else "BELOW"
            verdicts.append(f"tunnels: portcullis/squid {vs:.2f}× MB/s ({ok} the {TARGET_TUNNEL}× target; "
                            f"CPU per MB {x_or_na(cpu_vs)} Squid's{spread(rows, 'mbps', 'MB/s')})")
    return "\n".join(lines), verdicts


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
class Cfg:
    pass


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--tunnel-client":
        tunnel_client(json.loads(sys.argv[2]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(PROXIES),
                    help="comma list of: squid, portcullis, direct (no proxy: the ceiling); default all")
    ap.add_argument("--tests", default="get,tunnel", help="get, tunnel or both (default)")
    ap.add_argument("--bodies", default="small,16k", help="GET bodies: small (13 B), 16k")
    ap.add_argument("--rounds", type=int, default=b.env_int("BENCH_ROUNDS", 3))
    ap.add_argument("--duration", type=int, default=b.env_int("BENCH_DURATION", 10), help="seconds per run")
    ap.add_argument("--out", default=os.path.join(b.RESULTS_DIR, "forward-latest.md"))
    args = ap.parse_args()
    proxies = [p.strip() for p in args.only.split(",") if p.strip()]
    for p in proxies:
        if p not in PROXIES:
            ap.error(f"unknown proxy {p!r}; expected some of {', '.join(PROXIES)}")
    proxies = [p for p in PROXIES if p in proxies]
    tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    for t in tests:
        if t not in ("get", "tunnel"):
            ap.error(f"unknown test {t!r}; expected get, tunnel")
    bodies = [x.strip() for x in args.bodies.split(",") if x.strip()]
    for x in bodies:
        if x not in BODIES:
            ap.error(f"unknown body {x!r}; expected some of {', '.join(BODIES)}")
    if args.rounds < 1 or args.duration < 1:
        ap.error("--rounds and --duration must be at least 1")

    cfg = Cfg()
    cfg.duration = args.duration
    cfg.conns = b.env_int("BENCH_CONNECTIONS", 64)
    cfg.threads = b.env_int("BENCH_THREADS", 2)
    cfg.tunnels = b.env_int("BENCH_TUNNELS", 8)
    cfg.big = parse_size(os.environ.get("BENCH_TUNNEL_OBJECT") or "64m")
    cfg.warm_portcullis = b.env_int("BENCH_WARMUP_PORTCULLIS", 10)
    cfg.warm_other = b.env_int("BENCH_WARMUP", 3)
    cfg.workers = b.env_int("BENCH_WORKERS", 2)
    cfg.backend_workers = b.env_int("BENCH_BACKEND_WORKERS", 2)
    anonymize = os.environ.get("BENCH_ANONYMIZE") or "off"
    java_opts = shlex.split(os.environ.get("PORTCULLIS_JAVA_OPTS") or DEFAULT_JAVA_OPTS)

    b.require_tools(["nginx", "wrk", "curl"] + (["squid"] if "squid" in proxies else [])
                    + (["java"] if "portcullis" in proxies else []), "bench/run.sh forward")
    tmp, jar, tag = b.start_harness("portcullis-forward-bench-", "portcullis" in proxies)
    cfg.tmp = tmp
    facts = b.machine_facts()
    facts["squid -v"] = b.cmd_out(["squid", "-v"]).splitlines()[0] if shutil.which("squid") else "not installed"
    started = time.time()
    b.log(f"temp dir {tmp}; proxies {proxies}; tests {tests}; bodies {bodies}; rounds {args.rounds}; "
          f"duration {cfg.duration}s; {cfg.tunnels} tunnels")

    make_bodies(tmp, cfg.big)
    scripts = {}
    for body in bodies:
        url = f"http://{b.HOST}:{ORIGIN_PORT}{BODIES[body]}"
        scripts[body] = b.write(os.path.join(tmp, f"get-{body}.lua"),
                                GET_LUA.format(url=url, authority=f"{b.HOST}:{ORIGIN_PORT}"))
    for port in [ORIGIN_PORT] + [PORTS[p] for p in proxies if p in PORTS]:
        b.check_port_free(port)
    oconf = b.write(os.path.join(tmp, "origin.conf"), origin_conf(tmp, cfg.backend_workers))
    origin = b.start_nginx("origin", oconf, tmp)
    for path in ["/small", "/16k", "/big", "/status"]:
        b.wait_ready("origin", ORIGIN_PORT, path=path, proc=origin, logpath=origin.logpath)

    commands, unavailable, configs = {"origin": " ".join(origin.args)}, {}, {}
    if "squid" in proxies:
        _, conf, cmd, squid_workers, note = start_squid(tmp, cfg.workers)
        commands["squid"] = cmd
        configs["squid"] = open(conf).read()
        facts["squid workers"] = f"{squid_workers}" + (f" ({note})" if note else "")
    if "portcullis" in proxies:
        p, conf, cmd = start_portcullis(tmp, cfg.workers, jar, java_opts, anonymize)
        configs["portcullis"] = open(conf).read()
        if p is None:
            unavailable["portcullis"] = cmd.splitlines()[0]
            b.log(f"portcullis: {cmd}")
        else:
            commands["portcullis"] = cmd
    live = [p for p in proxies if p not in unavailable]

    results, probes = [], {}
    if "get" in tests:
        for body in bodies:
            for proxy in live:
                probes[f"get {body} {proxy}"] = pr = probe_get(proxy, body)
                b.log(f"probe get {body} {proxy}: {pr}")
                wd = cfg.warm_portcullis if proxy == "portcullis" else cfg.warm_other
                if wd > 0:
                    b.log(f"warm-up {proxy} get {body} {wd}s")
                    b.run_wrk(wrk_get_argv(proxy, body, wd, cfg, scripts), wd)
            for rnd in range(1, args.rounds + 1):
                k = (rnd - 1) % len(live)  # the order rotates: no proxy always runs first or last
                for proxy in live[k:] + live[:k]:
                    results.append(measure_get(proxy, body, rnd, cfg, origin.pid, tag, scripts))
    if "tunnel" in tests:
        for proxy in live:
            probes[f"tunnel {proxy}"] = pr = probe_tunnel(proxy, cfg)
            b.log(f"probe tunnel {proxy}: {pr}")
            wd = cfg.warm_portcullis if proxy == "portcullis" else cfg.warm_other
            if wd > 0:
                b.log(f"warm-up {proxy} tunnel {wd}s")
                run_tunnel_clients(proxy, cfg.tunnels, wd, cfg)
        for rnd in range(1, args.rounds + 1):
            k = (rnd - 1) % len(live)
            for proxy in live[k:] + live[:k]:
                results.append(measure_tunnel(proxy, rnd, cfg, origin.pid, tag))
    for proxy in live:
        if proxy != "direct":
            b.PROCS.stop(PROC_NAMES[proxy])
    b.PROCS.stop("origin")

    facts["load average at end"] = open("/proc/loadavg").read().strip()
    gtable, gverdicts = get_table(results, bodies, proxies, unavailable) if "get" in tests else ("", [])
    ttable, tverdicts = tunnel_table(results, proxies, unavailable) if "tunnel" in tests else ("", [])
    # a failed probe puts that row's figures in doubt: say so beside the verdicts
    for k, v in ((k, v) for k, v in probes.items() if not v["ok"]):
        (gverdicts if k.startswith("get") else tverdicts).append(f"PROBE FAILED: {k}: {json.dumps(v)}")
    elapsed = time.time() - started
    if gtable:
        print("Forward GETs (median of rounds; ratios vs squid: median of the per-round ratios)\n")
        print(gtable + "\n")
    if ttable:
        print(f"CONNECT tunnels, {cfg.tunnels} clients (MB = 10^6 bytes; median of rounds)\n")
        print(ttable + "\n")
    for v in gverdicts + tverdicts:
        print(f"- {v}")

    run_cmd = f"bench/run.sh forward {' '.join(shlex.quote(a) for a in sys.argv[1:])}".rstrip()
    md = [f"# Portcullis forward-proxy benchmark beside Squid — {tag}", "",
          f"Run: `{run_cmd}` (duration {cfg.duration}s, rounds {args.rounds}, BENCH_CONNECTIONS={cfg.conns}, "
          f"BENCH_THREADS={cfg.threads}, BENCH_TUNNELS={cfg.tunnels}, tunnel object {cfg.big} bytes, "
          f"BENCH_WORKERS={cfg.workers}, anonymize {anonymize}, warm-up {cfg.warm_other}s / Portcullis "
          f"{cfg.warm_portcullis}s per test) — took {elapsed / 60:.1f} min.", "", "## Machine and tools", ""]
    md += [f"- **{k}**: `{v}`" for k, v in facts.items()]
    if gtable:
        md += ["", "## Forward GETs (median of rounds; ratios: median of the per-round ratios)", "", gtable, ""]
        md += [f"- {v}" for v in gverdicts]
    if ttable:
        md += ["", f"## CONNECT tunnels ({cfg.tunnels} clients, MB = 10^6 bytes)", "", ttable, ""]
        md += [f"- {v}" for v in tverdicts]
    md += ["", "CPU µs/req and µs/MB: utime+stime of the proxy's whole process tree (Squid: master, coordinator "
           "and workers) over the run. Origin requests / request: the origin's stub_status counter over the "
           "run divided by wrk's requests (1.00: every GET reached the origin, nothing was cached). wrk / "
           "client CPU %: the load generator's share of the machine; other jobs CPU %: host CPU used by "
           "neither the load generator, the origin nor the proxy. Tunnel MB/s counts every byte the clients "
           "received inside their tunnels (heads included) over the window; `direct` is the same clients "
           "straight at the origin.", "", "## Probes", ""]
    md += [f"- {k}: `{json.dumps(v)}`" for k, v in probes.items()]
    md += ["", "## Commands", ""]
    md += [f"    {c}" for c in sorted({re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT",
                                              re.sub(r"-s \S+", "-s get-BODY.lua", r["cmd"])) for r in results})]
    md += ["", f"Ports: origin {ORIGIN_PORT}, " + ", ".join(f"{p} {PORTS[p]}" for p in proxies if p in PORTS)
           + f", Portcullis admin {ADMIN_PORT}.", ""]
    md += [f"- {k}: `{v}`" for k, v in commands.items()]
    md += ["", "<details><summary>wrk script (small)</summary>", "", "```lua",
           GET_LUA.format(url=f"http://{b.HOST}:{ORIGIN_PORT}/small", authority=f"{b.HOST}:{ORIGIN_PORT}").strip(),
           "```", "", "</details>", ""]
    for k, v in configs.items():
        md += [f"<details><summary>{k} config</summary>", "", "```", v.strip(), "```", "", "</details>", ""]
    md += ["<details><summary>origin nginx config</summary>", "", "```", open(oconf).read().strip(), "```", "",
           "</details>", ""]
    with open(args.out, "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(b.RAW_DIR, f"forward_{tag}_results.json"), "w") as f:
        json.dump({"facts": facts, "runs": results, "unavailable": unavailable, "probes": probes}, f, indent=1)
    b.log(f"wrote {args.out} and {b.RAW_DIR}/forward_{tag}_*; took {elapsed:.0f}s")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
