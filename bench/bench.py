#!/usr/bin/env python3
"""Side-by-side reverse-proxy benchmark: nginx vs HAProxy vs Portcullis.

Everything runs on 127.0.0.1.  A backend nginx (2 workers) serves three
bodies; three proxies sit in front of it; wrk measures each proxy in an
interleaved order, and the median of the rounds is reported as a Markdown
table (stdout + bench/results/latest.md).  Raw wrk outputs go to
bench/results/raw/.

Only the Python standard library is used.  See bench/README.md.
"""

import argparse
import atexit
import datetime
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
RESULTS_DIR = os.path.join(BENCH_DIR, "results")
RAW_DIR = os.path.join(RESULTS_DIR, "raw")

HOST = "127.0.0.1"
BACKEND_PORT = 18080
PORTS = {"nginx": 18081, "haproxy": 18082, "portcullis": 18083, "portcullis-uring": 18084,
         "direct": BACKEND_PORT}
ADMIN_PORT = 19901
# Portcullis variants: the default transport (auto: native epoll) and io_uring (transport: io_uring, opt-in).
PORTCULLIS_VARIANTS = {"portcullis": ("auto", ADMIN_PORT), "portcullis-uring": ("io_uring", ADMIN_PORT + 1)}
ALL_PROXIES = ["nginx", "haproxy", "portcullis", "portcullis-uring"]
BODIES = {"small": "/small", "16k": "/16k", "1m": "/1m"}
SMALL_BODY = "hello world!\n"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v not in (None, "") else default


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Process bookkeeping: every process we start is tracked by PID and killed
# on exit (atexit + SIGTERM/SIGINT/SIGHUP).  The PIDs are also written to
# BENCH_PIDFILE so run.sh's `trap EXIT` can clean up if Python dies hard.
# --------------------------------------------------------------------------
class Procs:
    def __init__(self, pidfile):
        self.procs = {}  # name -> Popen
        self.pidfile = pidfile

    def _write_pidfile(self):
        if not self.pidfile:
            return
        with open(self.pidfile, "w") as f:
            for p in self.procs.values():
                f.write(f"{p.pid}\n")

    def start(self, name, argv, logpath, cwd=None):
        log(f"start {name}: {' '.join(shlex.quote(a) for a in argv)}")
        out = open(logpath, "ab")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, cwd=cwd)
        out.close()
        p.logpath = logpath
        self.procs[name] = p
        self._write_pidfile()
        return p

    def stop(self, name, timeout=10):
        p = self.procs.pop(name, None)
        if p is None:
            return
        if p.poll() is None:
            # nginx master: SIGTERM = fast shutdown (it stops its workers);
            # haproxy: SIGTERM = hard stop; java: SIGTERM runs shutdown hooks.
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{name} (pid {p.pid}) did not stop, SIGKILL")
                p.kill()
                p.wait(5)
        self._write_pidfile()

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)


PROCS = None


def _signal_exit(signum, _frame):
    log(f"got signal {signum}, cleaning up")
    sys.exit(128 + signum)


# --------------------------------------------------------------------------
# /proc helpers
# --------------------------------------------------------------------------
def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # comm may contain spaces/parens: split after the last ')'
    rest = data[data.rindex(")") + 2:].split()
    return rest  # rest[0] = state (field 3); field N is rest[N-3]


def children_of(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if int(_stat_fields(d)[1]) == pid:  # field 4 = ppid
                kids.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return kids


def process_tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children_of(p))
    return out


def cpu_ticks(pids):
    """utime+stime (fields 14,15) summed over pids; a process's stat already
    covers all of its threads."""
    total = 0
    for pid in pids:
        try:
            f = _stat_fields(pid)
            total += int(f[11]) + int(f[12])
        except (OSError, ValueError, IndexError):
            pass
    return total


def host_cpu():
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    vals = [int(x) for x in parts]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return sum(vals), idle


# --------------------------------------------------------------------------
# Config generation
# --------------------------------------------------------------------------
def nginx_common(tmp, name):
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    return d, f"""
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
"""


def nginx_main(d, workers):
    """The top of every generated nginx config: a foreground master, `workers` workers, pid and error log in d."""
    return f"""daemon off;
master_process on;
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
"""


def backend_conf(tmp, workers):
    d, temps = nginx_common(tmp, "backend")
    www = os.path.join(tmp, "www")
    return f"""# generated by bench/bench.py: fast static backend
{nginx_main(d, workers)}http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    default_type application/octet-stream;
{temps}
    server {{
        listen {HOST}:{BACKEND_PORT} backlog=4096;
        root {www};
        location = /small {{
            default_type text/plain;
            return 200 "{SMALL_BODY.rstrip(chr(10))}\\n";
        }}
        location / {{ }}
    }}
}}
"""


def nginx_proxy_conf(tmp, workers):
    d, temps = nginx_common(tmp, "nginx-proxy")
    return f"""# generated by bench/bench.py: nginx as reverse proxy
{nginx_main(d, workers)}http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
{temps}
    upstream backend {{
        server {HOST}:{BACKEND_PORT};
        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        listen {HOST}:{PORTS['nginx']} backlog=4096;
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # keep responses in memory (default buffers) instead of spilling
            # the 1 MiB body to a temp file on disk
            proxy_max_temp_file_size 0;
        }}
    }}
}}
"""


def haproxy_conf(tmp, workers):
    return f"""# generated by bench/bench.py: HAProxy as reverse proxy (no logging)
global
    nbthread {workers}
    maxconn 4096

defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s

frontend bench
    bind {HOST}:{PORTS['haproxy']}
    default_backend backend

backend backend
    server s1 {HOST}:{BACKEND_PORT}
"""


def portcullis_conf(workers, proxy="portcullis"):
    transport, admin_port = PORTCULLIS_VARIANTS[proxy]
    return f"""# generated by bench/bench.py
workers: {workers}
transport: {transport}
admin: {{ bind: {HOST}:{admin_port} }}
access_log: {{ path: off }}
listeners:
  - name: bench
    bind: {HOST}:{PORTS[proxy]}
    routes:
      - name: all
        match: {{ path_prefix: / }}
        upstream: backend
upstreams:
  backend:
    endpoints: [{HOST}:{BACKEND_PORT}]
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def make_bodies(tmp):
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    # deterministic, non-zero content
    block = bytes(range(256))
    with open(os.path.join(www, "16k"), "wb") as f:
        f.write(block * (16 * 1024 // 256))
    with open(os.path.join(www, "1m"), "wb") as f:
        f.write(block * (1024 * 1024 // 256))
    with open(os.path.join(www, "small.txt"), "w") as f:
        f.write(SMALL_BODY)
    # nginx workers may run as an unprivileged user: make the tree readable
    for p in (tmp, www):
        os.chmod(p, 0o755)
    for n in os.listdir(www):
        os.chmod(os.path.join(www, n), 0o644)


# --------------------------------------------------------------------------
# Starting / readiness
# --------------------------------------------------------------------------
def wait_ready(name, port, path="/small", timeout=30.0, proc=None, logpath=None, scheme="http"):
    url = f"{scheme}://{HOST}:{port}{path}"
    # https (bench/tls_bench.py): the test certificate is self-signed (-k), and HTTP/1.1 is asked for so that
    # readiness does not depend on the listener's HTTP/2.
    extra = ["-k", "--http1.1"] if scheme == "https" else []
    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = ""
            if logpath and os.path.exists(logpath):
                tail = "\n" + "".join(open(logpath, errors="replace").readlines()[-20:])
            raise SystemExit(f"ERROR: {name} exited with code {proc.returncode} before it "
                             f"answered on {url}; log {logpath}:{tail}")
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                            "--max-time", "2"] + extra + [url], capture_output=True, text=True)
        last = r.stdout.strip() or f"curl rc={r.returncode}"
        if last == "200":
            log(f"{name} answers 200 on {url}")
            return
        time.sleep(0.25)
    raise SystemExit(f"ERROR: {name} did not answer 200 on {url} within {timeout:.0f}s "
                     f"(last: {last}); log {logpath}")


def check_port_free(port):
    import socket
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((HOST, port))
    except OSError:
        raise SystemExit(f"ERROR: {HOST}:{port} is already in use; stop whatever listens there")
    finally:
        s.close()


def start_nginx(name, conf_path, tmp):
    d = os.path.join(tmp, name)
    # -e: error log before the config is read (1.19.5+); -p: prefix
    argv = ["nginx", "-p", d + "/", "-e", os.path.join(d, "error.log"), "-c", conf_path]
    t = subprocess.run(argv + ["-t", "-q"], capture_output=True, text=True)
    if t.returncode != 0:
        raise SystemExit(f"ERROR: nginx config test failed for {name}:\n{t.stderr}")
    return PROCS.start(name, argv, os.path.join(tmp, f"{name}.out"))


def resolve_jar():
    jar = os.environ.get("PORTCULLIS_JAR") or "target/portcullis.jar"
    if not os.path.isabs(jar):
        jar = os.path.join(REPO_ROOT, jar)
    if not os.path.exists(jar):
        log(f"{jar} missing: building with ./mvnw -q -DskipTests package")
        r = subprocess.run(["./mvnw", "-q", "-DskipTests", "package"], cwd=REPO_ROOT)
        if r.returncode != 0 or not os.path.exists(jar):
            raise SystemExit(f"ERROR: could not build {jar} (mvnw rc={r.returncode})")
    return jar


def start_proxy(proxy, workers, tmp, jar):
    check_port_free(PORTS[proxy])
    if proxy == "nginx":
        conf = write(os.path.join(tmp, f"nginx-proxy-w{workers}.conf"),
                     nginx_proxy_conf(tmp, workers))
        p = start_nginx("nginx-proxy", conf, tmp)
        cmd = " ".join(p.args)
    elif proxy == "haproxy":
        conf = write(os.path.join(tmp, f"haproxy-w{workers}.cfg"), haproxy_conf(tmp, workers))
        t = subprocess.run(["haproxy", "-c", "-q", "-f", conf], capture_output=True, text=True)
        if t.returncode != 0:
            raise SystemExit(f"ERROR: haproxy config check failed:\n{t.stdout}{t.stderr}")
        p = PROCS.start("haproxy", ["haproxy", "-db", "-f", conf],
                        os.path.join(tmp, "haproxy.out"))
        cmd = " ".join(p.args)
    elif proxy in PORTCULLIS_VARIANTS:
        check_port_free(PORTCULLIS_VARIANTS[proxy][1])
        conf = write(os.path.join(tmp, f"{proxy}-w{workers}.yaml"), portcullis_conf(workers, proxy))
        argv = ["java", "-Xms256m", "-Xmx256m", "-XX:+UseParallelGC", "-jar", jar,
                "run", "-c", conf]
        p = PROCS.start(proxy, argv, os.path.join(tmp, f"{proxy}.out"), cwd=REPO_ROOT)
        cmd = " ".join(argv)
    else:
        raise ValueError(proxy)
    wait_ready(proxy, PORTS[proxy], proc=p, logpath=p.logpath)
    return p, conf, cmd


def proc_name(proxy):
    return {"nginx": "nginx-proxy", "direct": "backend"}.get(proxy, proxy)


# --------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"cannot parse wrk time {text!r}")
    return float(m.group(1)) * UNIT_MS[m.group(2)]


def parse_wrk(out):
    res = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+\w+),", out)
    res["requests"] = int(m.group(1)) if m else None
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)\s*$", out, re.M)
        res[f"p{pct}_ms"] = to_ms(m.group(1)) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    return res


def wrk_argv(port, path, duration, conns, threads):
    return ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency",
            f"http://{HOST}:{port}{path}"]


def run_wrk(argv, duration):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    if r.returncode != 0:
        raise SystemExit(f"ERROR: wrk failed ({r.returncode}): {r.stderr}")
    return r.stdout


def measure(proxy, body, workers, rnd, cfg, backend_pid, tag):
    port = PORTS[proxy]
    conns = cfg.conns_1m if body == "1m" else cfg.conns
    argv = wrk_argv(port, BODIES[body], cfg.duration, conns, cfg.threads)
    p = PROCS.procs[proc_name(proxy)]
    pids = process_tree(p.pid)
    bpids = process_tree(backend_pid)
    t0, b0 = cpu_ticks(pids), cpu_ticks(bpids)
    h0 = host_cpu()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = run_wrk(argv, cfg.duration)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    h1 = host_cpu()
    t1, b1 = cpu_ticks(process_tree(p.pid)), cpu_ticks(process_tree(backend_pid))
    res = parse_wrk(out)
    raw = os.path.join(RAW_DIR, f"{tag}_w{workers}_{body}_r{rnd}_{proxy}.txt")
    with open(raw, "w") as f:
        f.write(f"$ {' '.join(argv)}\n# pids {pids} ticks {t0}->{t1} (CLK_TCK {CLK_TCK})\n")
        f.write(out)
    reqs = res["requests"] or 0
    res["cpu_us_per_req"] = ((t1 - t0) / CLK_TCK) / reqs * 1e6 if reqs else None
    res["backend_cpu_us_per_req"] = ((b1 - b0) / CLK_TCK) / reqs * 1e6 if reqs else None
    tot, idle = h1[0] - h0[0], h1[1] - h0[1]
    res["host_busy_pct"] = 100.0 * (tot - idle) / tot if tot else None
    # CPU used by anything that is not wrk, the backend or this proxy: a
    # contamination indicator (other jobs on the machine).
    wrk_ticks = ((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)) * CLK_TCK
    ours = (t1 - t0) + wrk_ticks + (0 if proxy == "direct" else (b1 - b0))
    res["wrk_cpu_pct"] = 100.0 * wrk_ticks / tot if tot else None
    res["other_cpu_pct"] = max(0.0, 100.0 * (tot - idle - ours) / tot) if tot else None
    res.update(proxy=proxy, body=body, workers=workers, round=rnd, cmd=" ".join(argv))
    log(f"w={workers} {body:>5} r{rnd} {proxy:<10} {res['rps'] or 0:>10.0f} req/s "
        f"p50 {fmt(res['p50_ms'], 3)}ms p99 {fmt(res['p99_ms'], 3)}ms "
        f"cpu {res['cpu_us_per_req'] or 0:.1f}us/req host {res['host_busy_pct'] or 0:.0f}% busy "
        f"(other jobs {res['other_cpu_pct'] or 0:.0f}%)"
        + (f" ERRORS sock={res['socket_errors']} non2xx={res['non_2xx']}"
           if res["socket_errors"] or res["non_2xx"] else ""))
    return res


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------
def med(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, nd=2):
    if v is None:
        return "n/a"
    if nd == 0:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}"


def ratio(a, b):
    if a is None or not b:
        return "n/a"
    return f"{a / b:.2f}×"


def build_table(results, workers_list, proxies):
    lines = ["| workers | body | proxy | req/s | p50 ms | p99 ms | CPU µs/req "
             "| req/s vs nginx | p99 vs nginx | backend CPU µs/req | host CPU busy % | other jobs CPU % "
             "| errors |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    summary = []
    for w in workers_list:
        for body in BODIES:
            meds = {}
            for proxy in proxies:
                rows = [r for r in results if r["workers"] == w and r["body"] == body
                        and r["proxy"] == proxy]
                if not rows:
                    continue
                meds[proxy] = {k: med(rows, k) for k in
                               ("rps", "p50_ms", "p99_ms", "cpu_us_per_req",
                                "backend_cpu_us_per_req", "host_busy_pct", "other_cpu_pct")}
                meds[proxy]["errors"] = sum(r["socket_errors"] + r["non_2xx"] for r in rows)
                meds[proxy]["n"] = len(rows)
            ref = meds.get("nginx")
            for proxy, m in meds.items():
                lines.append(
                    f"| {w} | {body} | {proxy} | {fmt(m['rps'], 0)} | {fmt(m['p50_ms'])} "
                    f"| {fmt(m['p99_ms'])} | {fmt(m['cpu_us_per_req'], 1)} "
                    f"| {ratio(m['rps'], ref['rps']) if ref else 'n/a'} "
                    f"| {ratio(m['p99_ms'], ref['p99_ms']) if ref else 'n/a'} "
                    f"| {fmt(m['backend_cpu_us_per_req'], 1)} | {fmt(m['host_busy_pct'], 0)} "
                    f"| {fmt(m['other_cpu_pct'], 0)} "
                    f"| {m['errors']} |")
                summary.append(dict(workers=w, body=body, proxy=proxy, **m))
    return "\n".join(lines), summary


def cmd_out(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (r.stdout + r.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable ({e})"


def machine_facts():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":", 1)[1].strip()
    except OSError:
        mem = "unknown"
    return {
        "CPU model": model,
        "cores (nproc)": str(os.cpu_count()),
        "memory": mem,
        "kernel": platform.release(),
        "java -version": cmd_out(["java", "-version"]).splitlines()[0] if shutil.which("java") else "not installed",
        "nginx -v": cmd_out(["nginx", "-v"]),
        "haproxy -v": cmd_out(["haproxy", "-v"]).splitlines()[0],
        "wrk": cmd_out(["wrk", "-v"]).splitlines()[0],
        "python": platform.python_version(),
        "load average at start": open("/proc/loadavg").read().strip(),
    }


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
class Cfg:
    pass


def require_tools(tools, run_cmd="bench/run.sh"):
    """Stops with a clear error when a tool the run needs is missing."""
    for tool in tools:
        if not shutil.which(tool):
            raise SystemExit(f"ERROR: {tool} not found (run {run_cmd}, which installs it)")


def start_harness(prefix, need_jar):
    """What every harness does first: the raw-results directory, a temp dir, process tracking (PIDs in
    BENCH_PIDFILE, everything stopped at exit or on a signal), the jar when Portcullis runs, a run tag.
    Returns (tmp, jar or None, tag)."""
    global PROCS
    os.makedirs(RAW_DIR, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=prefix)
    PROCS = Procs(os.environ.get("BENCH_PIDFILE"))
    atexit.register(PROCS.stop_all)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _signal_exit)
    jar = resolve_jar() if need_jar else None
    return tmp, jar, datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(ALL_PROXIES),
                    help="comma list of proxies to measure: nginx,haproxy,portcullis "
                         "(plus 'direct' = wrk straight at the backend, a ceiling)")
    ap.add_argument("--baseline", action="store_true",
                    help="also measure the backend directly ('direct' row)")
    ap.add_argument("--workers", default="1,2", help="worker counts N to test (default 1,2)")
    ap.add_argument("--bodies", default="small,16k,1m")
    ap.add_argument("--rounds", type=int, default=env_int("BENCH_ROUNDS", 3))
    ap.add_argument("--out", default=os.path.join(RESULTS_DIR, "latest.md"))
    args = ap.parse_args()

    proxies = [p.strip() for p in args.only.split(",") if p.strip()]
    if args.baseline and "direct" not in proxies:
        proxies.append("direct")
    for p in proxies:
        if p not in PORTS:
            ap.error(f"unknown proxy {p!r}")
    # keep the canonical interleaving order
    proxies = [p for p in ALL_PROXIES + ["direct"] if p in proxies]
    bodies = [b.strip() for b in args.bodies.split(",") if b.strip()]
    for b in bodies:
        if b not in BODIES:
            ap.error(f"unknown body {b!r}")
    workers_list = [int(x) for x in args.workers.split(",")]

    cfg = Cfg()
    cfg.duration = env_int("BENCH_DURATION", 10)
    cfg.conns = env_int("BENCH_CONNECTIONS", 64)
    cfg.conns_1m = env_int("BENCH_CONNECTIONS_1M", 16)
    cfg.threads = env_int("BENCH_THREADS", 2)
    cfg.warm_portcullis = env_int("BENCH_WARMUP_PORTCULLIS", 10)
    cfg.warm_other = env_int("BENCH_WARMUP", 3)
    cfg.backend_workers = env_int("BENCH_BACKEND_WORKERS", 2)

    with_java = any(p in PORTCULLIS_VARIANTS for p in proxies)
    require_tools(("nginx", "wrk", "curl") + (("haproxy",) if "haproxy" in proxies else ())
                  + (("java",) if with_java else ()))
    tmp, jar, tag = start_harness("portcullis-bench-", with_java)
    facts = machine_facts()
    started = time.time()
    log(f"temp dir {tmp}; proxies {proxies}; workers {workers_list}; bodies {bodies}; "
        f"rounds {args.rounds}; duration {cfg.duration}s")

    make_bodies(tmp)
    check_port_free(BACKEND_PORT)
    bconf = write(os.path.join(tmp, "backend.conf"), backend_conf(tmp, cfg.backend_workers))
    backend = start_nginx("backend", bconf, tmp)
    for path in BODIES.values():
        wait_ready("backend", BACKEND_PORT, path=path, proc=backend, logpath=backend.logpath)

    results, commands = [], {"backend": " ".join(backend.args)}
    for w in workers_list:
        for proxy in proxies:
            if proxy == "direct":
                continue
            _, conf, cmd = start_proxy(proxy, w, tmp, jar)
            commands[f"{proxy} (N={w})"] = cmd
            commands[f"{proxy} config (N={w})"] = open(conf).read()
        for body in bodies:
            # warm-up per body so JIT / buffers see every response size
            for proxy in proxies:
                wd = cfg.warm_portcullis if proxy in PORTCULLIS_VARIANTS else cfg.warm_other
                if wd > 0:
                    conns = cfg.conns_1m if body == "1m" else cfg.conns
                    log(f"warm-up {proxy} {body} {wd}s")
                    run_wrk(wrk_argv(PORTS[proxy], BODIES[body], wd, conns, cfg.threads), wd)
                    # a second, short run, so the close and reconnect paths are compiled before the first
                    # measured round (a JIT compiles them at their first use, the end of the first run)
                    run_wrk(wrk_argv(PORTS[proxy], BODIES[body], 2, conns, cfg.threads), 2)
            for rnd in range(1, args.rounds + 1):
                for proxy in proxies:  # interleaved: drift hits all proxies equally
                    results.append(measure(proxy, body, w, rnd, cfg, backend.pid, tag))
        for proxy in proxies:
            if proxy != "direct":
                PROCS.stop(proc_name(proxy))
    PROCS.stop("backend")

    facts["load average at end"] = open("/proc/loadavg").read().strip()
    table, summary = build_table(results, workers_list, proxies)
    elapsed = time.time() - started
    print(table)

    wrk_cmds = sorted({r["cmd"].rsplit(" ", 1)[0] + " http://127.0.0.1:PORT/PATH"
                       for r in results})
    md = [f"# Portcullis reverse-proxy benchmark — {tag}", "",
          f"Run: `bench/run.sh {' '.join(shlex.quote(a) for a in sys.argv[1:])}` "
          f"(BENCH_DURATION={cfg.duration}, BENCH_CONNECTIONS={cfg.conns}, "
          f"BENCH_CONNECTIONS_1M={cfg.conns_1m}, BENCH_THREADS={cfg.threads}, "
          f"rounds={args.rounds}, warm-up {cfg.warm_other}s / Portcullis "
          f"{cfg.warm_portcullis}s per body) — took {elapsed / 60:.1f} min.", "",
          "## Machine", ""]
    md += [f"- **{k}**: `{v}`" for k, v in facts.items()]
    md += ["", "## Results (median of rounds)", "", table, "",
           "CPU µs/req = (utime+stime of all the proxy's processes during the run) / "
           "requests completed; backend CPU µs/req is the same for the backend nginx. "
           "host CPU busy % is the whole machine (wrk + backend + proxy + anything else) "
           "from /proc/stat; other jobs CPU % is the part of it not used by wrk, the "
           "backend or the proxy (noise from other work on the machine). Ratios are proxy / nginx (req/s: higher is better; "
           "p99: lower is better).", "",
           "## Commands", "", "Load generator:", ""]
    md += [f"    {c}" for c in wrk_cmds]
    md += ["", "Ports: backend 18080, nginx 18081, haproxy 18082, portcullis 18083.", ""]
    for k, v in commands.items():
        if "config" in k:
            md += [f"<details><summary>{k}</summary>", "", "```", v.strip(), "```",
                   "", "</details>", ""]
        else:
            md += [f"- {k}: `{v}`"]
    md += ["", "<details><summary>backend nginx config</summary>", "", "```",
           open(bconf).read().strip(), "```", "", "</details>", ""]
    with open(args.out, "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(RAW_DIR, f"{tag}_results.json"), "w") as f:
        json.dump({"facts": facts, "runs": results, "medians": summary}, f, indent=1)
    log(f"wrote {args.out} and {RAW_DIR}/{tag}_*; took {elapsed:.0f}s")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
