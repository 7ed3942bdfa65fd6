#!/usr/bin/env python3
"""TLS and HTTP/2 benchmark: nginx vs HAProxy vs Portcullis, each terminating TLS on 127.0.0.1.

The same nginx backend as bench/bench.py (plain HTTP on 127.0.0.1:18080) sits behind three TLS proxies that
use one test certificate (ECDSA P-256, generated with openssl per run) and keep-alive connections upstream:

    nginx       127.0.0.1:18481   listen ssl + http2, proxy_pass to an upstream with keepalive 64
    haproxy     127.0.0.1:18482   bind ssl crt ... alpn h2,http/1.1, http-reuse always
    portcullis  127.0.0.1:18483   protocol: https, tls.certificates, alpn [h2, http/1.1]

Four scenarios, each run once per proxy per round, in an order that rotates every round:

    keepalive   wrk over https, persistent connections: req/s, latency
    handshake   a new connection and a FULL TLS handshake per request: K parallel `openssl s_time -new -www
                /small` (each a loop of connect, full handshake, GET, close; s_time -new never offers a
                session): handshakes/s
    resumed     wrk over https with "Connection: close": a new connection per request, whose TLS handshake
                RESUMES the session of the connection before it (wrk keeps the session on its SSL object, and
                all three proxies offer resumption): resumed handshakes/s, latency
    h2          h2load over TLS with ALPN h2, N clients x M concurrent streams: req/s

All three proxies keep their session resumption on (tickets and cache, as production sites run): Portcullis
has no setting to turn it off, and a probe records, per proxy, the version, cipher and whether a second
connection was resumed, so that "handshake" and "resumed" say what they count.

A proxy whose HTTP/2 does not work (the probe or the run gets no h2 responses) is reported as "h2 not
available" and the others are still measured. Ratios are the median over rounds of the ratio within a round
(the same scenario, seconds apart), as in bench/lb_throughput.py: this VM's speed drifts between minutes.

Run through bench/run.sh (which installs nginx, haproxy, wrk, h2load and openssl when missing):
    bench/run.sh tls [--rounds 3] [--duration 10] [--scenarios keepalive,handshake,resumed,h2]
                     [--only nginx,portcullis] [--workers 2] [--body small]
Environment: BENCH_DURATION (10 s), BENCH_ROUNDS (3), BENCH_CONNECTIONS (64: wrk connections),
BENCH_THREADS (2: wrk and h2load threads), BENCH_HANDSHAKE_CLIENTS (16 s_time processes),
BENCH_H2_CLIENTS (16), BENCH_H2_STREAMS (10), BENCH_WARMUP (3 s), BENCH_WARMUP_PORTCULLIS (10 s),
BENCH_BACKEND_WORKERS (2), PORTCULLIS_JAR.
"""
import argparse
import json
import os
import re
import resource
import shlex
import socket
import ssl
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing bench.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b  # noqa: E402

PORTS = {"nginx": 18481, "haproxy": 18482, "portcullis": 18483}
ADMIN_PORT = 19904
PROXIES = list(PORTS)
PROC_NAMES = {"nginx": "nginx-tls", "haproxy": "haproxy-tls", "portcullis": "portcullis-tls"}
SCENARIOS = {  # name -> (what the rate counts, tool)
    "keepalive": ("req/s", "wrk"),
    "handshake": ("full handshakes/s", "openssl s_time"),
    "resumed": ("resumed handshakes/s", "wrk"),
    "h2": ("req/s", "h2load"),
}
# Every proxy is to reach this fraction of nginx in every scenario (issue 4).
TARGET_VS_NGINX = 0.9


# --------------------------------------------------------------------------
# Certificate and configs
# --------------------------------------------------------------------------
def make_certificate(tmp):
    """A self-signed ECDSA P-256 certificate (SHA-256), what production sites mostly serve today: the server's
    handshake signature is a P-256 ECDSA sign, far cheaper than RSA-2048's. Key in PKCS#8 PEM; HAProxy gets
    certificate and key in one file."""
    d = os.path.join(tmp, "tls")
    os.makedirs(d, exist_ok=True)
    key, cert, both = (os.path.join(d, n) for n in ("site.key", "site.crt", "site.pem"))
    for argv in (["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
                 ["openssl", "req", "-x509", "-new", "-key", key, "-sha256", "-days", "30",
                  "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                  "-out", cert]):
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"ERROR: {' '.join(argv)} failed:\n{r.stderr}")
    with open(both, "w") as f:
        f.write(open(cert).read() + open(key).read())
    for p in (d, key, cert, both):  # nginx workers may run as an unprivileged user
        os.chmod(p, 0o755 if p == d else 0o644)
    return cert, key, both


def nginx_version():
    m = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", b.cmd_out(["nginx", "-v"]))
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def nginx_conf(tmp, workers, cert, key):
    name = PROC_NAMES["nginx"]
    d, temps = b.nginx_common(tmp, name)
    # "listen ... http2" was replaced by "http2 on" in 1.25.1
    if nginx_version() >= (1, 25, 1):
        listen, h2 = f"listen {b.HOST}:{PORTS['nginx']} ssl backlog=4096;", "http2 on;"
    else:
        listen, h2 = f"listen {b.HOST}:{PORTS['nginx']} ssl http2 backlog=4096;", ""
    return f"""# generated by bench/tls_bench.py: nginx terminating TLS (HTTP/1.1 and h2) in front of the backend
{b.nginx_main(d, workers)}http {{
    access_log off;
    # also the limit of requests per HTTP/2 connection (default 1000, after which h2load's clients stop)
    keepalive_requests 1000000;
    keepalive_timeout 75s;
{temps}
    upstream backend {{
        server {b.HOST}:{b.BACKEND_PORT};
        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        {listen}
        {h2}
        ssl_certificate {cert};
        ssl_certificate_key {key};
        # nginx before 1.23.4 offers TLSv1-1.2 only by default: the same versions as the others
        ssl_protocols TLSv1.2 TLSv1.3;
        # resumption on, as production sites run it (tickets are on by default; a cache shared by the workers)
        ssl_session_cache shared:bench:10m;
        ssl_session_tickets on;
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_max_temp_file_size 0;
        }}
    }}
}}
"""


def haproxy_conf(workers, pem):
    return f"""# generated by bench/tls_bench.py: HAProxy terminating TLS (HTTP/1.1 and h2), no logging
global
    nbthread {workers}
    maxconn 4096
    # resumption: HAProxy's defaults (session cache and tickets on)
    ssl-default-bind-options ssl-min-ver TLSv1.2

defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s

frontend bench_tls
    bind {b.HOST}:{PORTS['haproxy']} ssl crt {pem} alpn h2,http/1.1
    default_backend backend

backend backend
    server s1 {b.HOST}:{b.BACKEND_PORT}
"""


def portcullis_conf(workers, cert, key):
    # Portcullis has no session-cache or ticket settings (resumption is on): the probe reports it.
    return f"""# generated by bench/tls_bench.py
workers: {workers}
transport: auto
admin: {{ bind: {b.HOST}:{ADMIN_PORT} }}
access_log: {{ path: off }}
listeners:
  - name: bench-tls
    bind: {b.HOST}:{PORTS['portcullis']}
    protocol: https
    tls:
      certificates:
        - {{ cert: {cert}, key: {key} }}
      min_version: TLSv1.2
      alpn: [h2, http/1.1]
    routes:
      - name: all
        match: {{ path_prefix: / }}
        upstream: backend
upstreams:
  backend:
    endpoints: [{b.HOST}:{b.BACKEND_PORT}]
"""


# seconds of the second warm-up run of each proxy and scenario (after its connections of the first were closed)
RECONNECT_WARMUP = 2


def start_proxy(proxy, workers, tmp, jar, cert, key, pem):
    b.check_port_free(PORTS[proxy])
    name = PROC_NAMES[proxy]
    if proxy == "nginx":
        conf = b.write(os.path.join(tmp, f"nginx-tls-w{workers}.conf"), nginx_conf(tmp, workers, cert, key))
        p = b.start_nginx(name, conf, tmp)
    elif proxy == "haproxy":
        conf = b.write(os.path.join(tmp, f"haproxy-tls-w{workers}.cfg"), haproxy_conf(workers, pem))
        t = subprocess.run(["haproxy", "-c", "-q", "-f", conf], capture_output=True, text=True)
        if t.returncode != 0:
            raise SystemExit(f"ERROR: haproxy config check failed:\n{t.stdout}{t.stderr}")
        p = b.PROCS.start(name, ["haproxy", "-db", "-f", conf], os.path.join(tmp, "haproxy-tls.out"))
    else:
        b.check_port_free(ADMIN_PORT)
        conf = b.write(os.path.join(tmp, f"portcullis-tls-w{workers}.yaml"), portcullis_conf(workers, cert, key))
        # BENCH_JAVA_OPTS: extra JVM options, e.g. a profiler agent (-agentpath:...=start,event=cpu,file=...)
        argv = (["java", "-Xms256m", "-Xmx256m", "-XX:+UseParallelGC"]
                + shlex.split(os.environ.get("BENCH_JAVA_OPTS", "")) + ["-jar", jar, "run", "-c", conf])
        p = b.PROCS.start(name, argv, os.path.join(tmp, "portcullis-tls.out"), cwd=b.REPO_ROOT)
    b.wait_ready(proxy, PORTS[proxy], proc=p, logpath=p.logpath, scheme="https")
    return p, conf, " ".join(p.args)


# --------------------------------------------------------------------------
# TLS probe: what each proxy negotiates, and whether it resumes sessions
# --------------------------------------------------------------------------
def _client_context(alpn):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(alpn)
    return ctx


def _probe_connection(ctx, port, alpn, request=None, session=None):
    """One connection with the system OpenSSL (the same libssl as wrk, h2load and s_time), one request, read
    to the end (a TLS 1.3 server sends its session tickets after the handshake: they are read with the
    response)."""
    with socket.create_connection((b.HOST, port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            info = {"version": s.version(), "cipher": s.cipher()[0], "alpn": s.selected_alpn_protocol(),
                    "reused": s.session_reused}
            if "h2" in alpn:
                return info, None  # only which protocol ALPN chose
            s.sendall(request)
            data = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except (ssl.SSLError, OSError):
                pass  # a close without close_notify: the response is what matters
            info["status"] = data.split(b"\r\n", 1)[0].decode("latin-1")
            return info, s.session


def tls_probe(port, path):
    """What a proxy negotiates: TLS version and cipher suite; the status of the request `openssl s_time -www`
    sends (HTTP/1.0, no Host); whether a second connection presenting the first one's session is resumed (the
    "resumed" scenario counts resumed handshakes only if it is); the protocol ALPN selects when h2 is offered."""
    try:
        h1 = _client_context(["http/1.1"])
        s_time_request = f"GET {path} HTTP/1.0\r\n\r\n".encode()
        first, sess = _probe_connection(h1, port, ["http/1.1"], s_time_request)
        second, _ = _probe_connection(h1, port, ["http/1.1"], f"GET {path} HTTP/1.1\r\nHost: localhost\r\n"
                                      f"Connection: close\r\n\r\n".encode(), session=sess)
        h2, _ = _probe_connection(_client_context(["h2", "http/1.1"]), port, ["h2", "http/1.1"])
    except (OSError, ssl.SSLError) as e:
        return {"error": str(e)}
    return {"version": first["version"], "cipher": first["cipher"], "s_time request": first.get("status"),
            "resumed": second["reused"], "alpn when h2 offered": h2["alpn"]}


# --------------------------------------------------------------------------
# Load generators
# --------------------------------------------------------------------------
def wrk_argv(scenario, port, path, duration, conns, threads):
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency"]
    if scenario == "resumed":
        argv += ["-H", "Connection: close"]
    return argv + [f"https://{b.HOST}:{port}{path}"]


def s_time_argv(port, path, duration):
    return ["openssl", "s_time", "-connect", f"{b.HOST}:{port}", "-new", "-time", str(duration), "-www", path]


def run_s_time(port, path, duration, clients):
    """`clients` s_time processes at once, each a loop of full handshakes for `duration` seconds (it stops at
    the first whole second past it): handshakes/s is the sum of their connections over the wall time from the
    first start to the last exit. s_time gives no latency."""
    argv = s_time_argv(port, path, duration)
    procs = []
    t0 = time.monotonic()
    try:
        for _ in range(clients):
            procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                          stdin=subprocess.DEVNULL))
        outs = [p.communicate(timeout=duration + 60)[0] for p in procs]
    finally:
        for p in procs:  # only after a failure or a signal: stop the ones this run started
            if p.poll() is None:
                p.kill()
                p.wait(5)
    wall = time.monotonic() - t0
    conns, failed = 0, 0
    for p, out in zip(procs, outs):
        m = re.search(r"(\d+) connections in \d+ real seconds", out)
        if p.returncode != 0 or not m:
            failed += 1
        else:
            conns += int(m.group(1))
    out = "\n".join(f"--- s_time #{i} (rc {p.returncode})\n{o}" for i, (p, o) in enumerate(zip(procs, outs)))
    res = {"rps": conns / wall if wall else None, "requests": conns, "p50_ms": None, "p99_ms": None,
           "mean_ms": None, "errors": failed, "socket_errors": failed, "non_2xx": 0}
    return res, f"# {clients} x {' '.join(argv)}; wall {wall:.2f}s, {conns} connections\n{out}"


def h2load_argv(port, path, duration, clients, streams, threads):
    return ["h2load", f"-t{min(threads, clients)}", f"-c{clients}", f"-m{streams}", "-D", str(duration),
            f"https://{b.HOST}:{port}{path}"]


def parse_wrk(out):
    res = b.parse_wrk(out)
    m = re.search(r"^\s+Latency\s+(\S+)", out, re.M)
    res["mean_ms"] = b.to_ms(m.group(1)) if m else None
    res["errors"] = res["socket_errors"] + res["non_2xx"]
    return res


H2_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_h2load(out):
    res = {"rps": None, "requests": None, "p50_ms": None, "p99_ms": None, "mean_ms": None, "errors": 0}
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    if m:
        res["rps"] = float(m.group(1))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", out)
    if m:
        res["requests"] = int(m.group(4))
        res["errors"] = int(m.group(5)) + int(m.group(7))
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if m:
        res["errors"] += int(m.group(3)) + int(m.group(4))
    m = re.search(r"time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)\b", out)
    if m:
        res["mean_ms"] = float(m.group(1)) * H2_UNITS_MS[m.group(2)]
    m = re.search(r"Application protocol: (\S+)", out)
    res["protocol"] = m.group(1) if m else None
    for key, pat in (("tls", r"TLS Protocol: (\S+)"), ("cipher", r"Cipher: (\S+)"),
                     ("kx", r"Server Temp Key: (.+)")):
        m = re.search(pat, out)
        res[key] = m.group(1).strip() if m else None
    return res


def h2_failure(res, out):
    """Why an h2load run counts as "h2 not available", or None when it worked."""
    if res.get("protocol") != "h2":
        m = re.search(r"No protocol negotiated.*|.*ALPN.*", out)
        return f"ALPN gave {res.get('protocol') or 'no protocol'}" + (f" ({m.group(0).strip()})" if m else "")
    if not res.get("requests"):
        return "no request succeeded (ALPN chose h2, then the connection failed)"
    return None


def run_tool(argv, timeout):
    """stdout+stderr and the return code; a hang (a proxy that accepts and never answers) becomes rc -1."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return r.stdout + r.stderr, r.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return out + f"\n[timed out after {timeout}s]", -1


def h2_probe(port):
    """A few h2 requests on one connection: does this proxy's HTTP/2 work at all?"""
    argv = ["h2load", "-n", "20", "-c", "1", "-m", "4", f"https://{b.HOST}:{port}/small"]
    out, rc = run_tool(argv, 30)
    res = parse_h2load(out)
    why = h2_failure(res, out) if rc == 0 else f"h2load exited with {rc}"
    return why, res


# --------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------
def load_argv(scenario, port, cfg, duration):
    if scenario == "h2":
        return h2load_argv(port, cfg.path, duration, cfg.h2_clients, cfg.h2_streams, cfg.threads)
    if scenario == "handshake":
        return s_time_argv(port, cfg.path, duration)
    return wrk_argv(scenario, port, cfg.path, duration, cfg.conns, cfg.threads)


def measure(scenario, proxy, rnd, cfg, backend_pid, tag, workers):
    port = PORTS[proxy]
    argv = load_argv(scenario, port, cfg, cfg.duration)
    p = b.PROCS.procs[PROC_NAMES[proxy]]
    pids, bpids = b.process_tree(p.pid), b.process_tree(backend_pid)
    t0, b0, h0 = b.cpu_ticks(pids), b.cpu_ticks(bpids), b.host_cpu()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if scenario == "handshake":
        s_res, out = run_s_time(port, cfg.path, cfg.duration, cfg.handshake_clients)
        rc = 0
    else:
        out, rc = run_tool(argv, cfg.duration + 60)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    h1 = b.host_cpu()
    t1, b1 = b.cpu_ticks(b.process_tree(p.pid)), b.cpu_ticks(b.process_tree(backend_pid))
    with open(os.path.join(b.RAW_DIR, f"tls_{tag}_w{workers}_{scenario}_r{rnd}_{proxy}.txt"), "w") as f:
        f.write(f"$ {' '.join(shlex.quote(a) for a in argv)}\n# rc {rc}; pids {pids} ticks {t0}->{t1}\n{out}")
    if scenario == "h2":
        res = parse_h2load(out)
        res["failure"] = h2_failure(res, out) if rc == 0 else f"h2load exited with {rc}"
    elif scenario == "handshake":
        res = s_res
        res["failure"] = None if res["requests"] else "no s_time connection succeeded"
    else:
        if rc != 0:
            raise SystemExit(f"ERROR: wrk against {proxy} failed ({rc}):\n{out}")
        res = parse_wrk(out)
        res["failure"] = None
    reqs = res["requests"] or 0
    res["cpu_us_per_req"] = ((t1 - t0) / b.CLK_TCK) / reqs * 1e6 if reqs else None
    res["backend_cpu_us_per_req"] = ((b1 - b0) / b.CLK_TCK) / reqs * 1e6 if reqs else None
    tot, idle = h1[0] - h0[0], h1[1] - h0[1]
    load_ticks = ((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)) * b.CLK_TCK
    res["host_busy_pct"] = 100.0 * (tot - idle) / tot if tot else None
    res["other_cpu_pct"] = (max(0.0, 100.0 * (tot - idle - (t1 - t0) - (b1 - b0) - load_ticks) / tot)
                            if tot else None)
    res.update(scenario=scenario, proxy=proxy, round=rnd, workers=workers,
               cmd=(f"{cfg.handshake_clients} x " if scenario == "handshake" else "") + shlex.join(argv))
    b.log(f"w={workers} {scenario:<9} r{rnd} {proxy:<10} {res['rps'] or 0:>9.0f} {SCENARIOS[scenario][0]:<12} "
          f"mean {b.fmt(res['mean_ms'], 3)}ms p99 {b.fmt(res['p99_ms'], 3)}ms "
          f"cpu {res['cpu_us_per_req'] or 0:.1f}us/req host {res['host_busy_pct'] or 0:.0f}% "
          f"(other jobs {res['other_cpu_pct'] or 0:.0f}%) errors {res['errors']}"
          + (f" FAILED: {res['failure']}" if res["failure"] else ""))
    return res


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def paired_ratio(results, scenario, workers, proxy, ref):
    """Median over rounds of proxy/ref within the same round (the two runs seconds apart)."""
    xs = []
    for r in results:
        if r["scenario"] != scenario or r["workers"] != workers or r["proxy"] != proxy or not r["rps"]:
            continue
        other = [o for o in results if o["scenario"] == scenario and o["workers"] == workers
                 and o["round"] == r["round"] and o["proxy"] == ref and o["rps"]]
        if other:
            xs.append(r["rps"] / other[0]["rps"])
    return statistics.median(xs) if xs else None


def build_table(results, workers_list, proxies, scenarios, unavailable):
    lines = ["| workers | scenario | proxy | rate | unit | mean ms | p50 ms | p99 ms | CPU µs/req | vs nginx "
             "| vs haproxy | backend CPU µs/req | host CPU busy % | other jobs CPU % | errors |",
             "|---:|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    verdicts = []
    for w in workers_list:
        for sc in scenarios:
            unit = SCENARIOS[sc][0]
            for proxy in proxies:
                rows = [r for r in results if r["workers"] == w and r["scenario"] == sc and r["proxy"] == proxy]
                why = unavailable.get((w, sc, proxy))
                if why:
                    what = "h2 not available" if sc == "h2" else "failed"
                    lines.append(f"| {w} | {sc} | {proxy} | n/a | {unit} |" + " |" * 9 + f" {proxy}: {what} ({why}) |")
                    if proxy == "portcullis":
                        verdicts.append(f"N={w} {sc}: portcullis: {what} ({why})")
                    continue
                if not rows:
                    continue
                m = {k: b.med(rows, k) for k in ("rps", "mean_ms", "p50_ms", "p99_ms", "cpu_us_per_req",
                                                 "backend_cpu_us_per_req", "host_busy_pct", "other_cpu_pct")}
                vs = {ref: (paired_ratio(results, sc, w, proxy, ref) if ref in proxies else None)
                      for ref in ("nginx", "haproxy")}
                errors = sum(r["errors"] for r in rows)
                lines.append(f"| {w} | {sc} | {proxy} | {b.fmt(m['rps'], 0)} | {unit} | {b.fmt(m['mean_ms'])} "
                             f"| {b.fmt(m['p50_ms'])} | {b.fmt(m['p99_ms'])} | {b.fmt(m['cpu_us_per_req'], 1)} "
                             f"| {x_or_na(vs['nginx'])} | {x_or_na(vs['haproxy'])} "
                             f"| {b.fmt(m['backend_cpu_us_per_req'], 1)} | {b.fmt(m['host_busy_pct'], 0)} "
                             f"| {b.fmt(m['other_cpu_pct'], 0)} | {errors} |")
                if proxy == "portcullis" and vs["nginx"] is not None:
                    ok = "meets" if vs["nginx"] >= TARGET_VS_NGINX else "BELOW"
                    verdicts.append(f"N={w} {sc}: portcullis/nginx {vs['nginx']:.2f}× ({ok} the "
                                    f"{TARGET_VS_NGINX}× target)"
                                    + (f", portcullis/haproxy {vs['haproxy']:.2f}×" if vs["haproxy"] else ""))
    return "\n".join(lines), verdicts


def x_or_na(v):
    return "n/a" if v is None else f"{v:.2f}×"


def tool_versions():
    # nginx, HAProxy, wrk and java versions are in bench.machine_facts()
    return {
        "openssl": b.cmd_out(["openssl", "version"]),
        "nginx built with": next((ln.strip() for ln in b.cmd_out(["nginx", "-V"]).splitlines()
                                  if "OpenSSL" in ln), "n/a"),
        "haproxy TLS library": next((ln.strip() for ln in b.cmd_out(["haproxy", "-vv"]).splitlines()
                                     if ln.startswith("Running on OpenSSL")), "n/a"),
        "h2load": b.cmd_out(["h2load", "--version"]).splitlines()[0],
        "python ssl (probe)": ssl.OPENSSL_VERSION,
    }


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
class Cfg:
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(PROXIES), help="comma list of: nginx, haproxy, portcullis")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS),
                    help="comma list of: keepalive, handshake, resumed, h2")
    ap.add_argument("--workers", default="2", help="worker counts N to test (default 2: both cores)")
    ap.add_argument("--body", default="small", choices=list(b.BODIES), help="response body (default small)")
    ap.add_argument("--rounds", type=int, default=b.env_int("BENCH_ROUNDS", 3))
    ap.add_argument("--duration", type=int, default=b.env_int("BENCH_DURATION", 10), help="seconds per run")
    ap.add_argument("--out", default=os.path.join(b.RESULTS_DIR, "tls-latest.md"))
    args = ap.parse_args()
    proxies = [p.strip() for p in args.only.split(",") if p.strip()]
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for p in proxies:
        if p not in PORTS:
            ap.error(f"unknown proxy {p!r}; expected some of {', '.join(PROXIES)}")
    for s in scenarios:
        if s not in SCENARIOS:
            ap.error(f"unknown scenario {s!r}; expected some of {', '.join(SCENARIOS)}")
    proxies = [p for p in PROXIES if p in proxies]
    scenarios = [s for s in SCENARIOS if s in scenarios]
    workers_list = [int(x) for x in args.workers.split(",")]

    cfg = Cfg()
    cfg.duration = args.duration
    cfg.path = b.BODIES[args.body]
    cfg.conns = b.env_int("BENCH_CONNECTIONS", 64)
    cfg.threads = b.env_int("BENCH_THREADS", 2)
    cfg.handshake_clients = b.env_int("BENCH_HANDSHAKE_CLIENTS", 16)
    cfg.h2_clients = b.env_int("BENCH_H2_CLIENTS", 16)
    cfg.h2_streams = b.env_int("BENCH_H2_STREAMS", 10)
    cfg.warm_portcullis = b.env_int("BENCH_WARMUP_PORTCULLIS", 10)
    cfg.warm_other = b.env_int("BENCH_WARMUP", 3)
    cfg.backend_workers = b.env_int("BENCH_BACKEND_WORKERS", 2)

    b.require_tools(["nginx", "curl", "openssl", "wrk"] + (["h2load"] if "h2" in scenarios else [])
                    + (["haproxy"] if "haproxy" in proxies else []) + (["java"] if "portcullis" in proxies else []),
                    "bench/run.sh tls")
    tmp, jar, tag = b.start_harness("portcullis-tls-bench-", "portcullis" in proxies)
    facts, versions = b.machine_facts(), tool_versions()
    started = time.time()
    b.log(f"temp dir {tmp}; proxies {proxies}; scenarios {scenarios}; workers {workers_list}; "
          f"rounds {args.rounds}; duration {cfg.duration}s; body {args.body}")

    cert, key, pem = make_certificate(tmp)
    b.make_bodies(tmp)
    b.check_port_free(b.BACKEND_PORT)
    bconf = b.write(os.path.join(tmp, "backend.conf"), b.backend_conf(tmp, cfg.backend_workers))
    backend = b.start_nginx("backend", bconf, tmp)
    b.wait_ready("backend", b.BACKEND_PORT, path=cfg.path, proc=backend, logpath=backend.logpath)

    results, commands, probes, unavailable = [], {"backend": " ".join(backend.args)}, {}, {}
    for w in workers_list:
        for proxy in proxies:
            _, conf, cmd = start_proxy(proxy, w, tmp, jar, cert, key, pem)
            commands[f"{proxy} (N={w})"] = cmd
            commands[f"{proxy} config (N={w})"] = open(conf).read()
        for proxy in proxies:
            probe = tls_probe(PORTS[proxy], cfg.path)
            if "h2" in scenarios:
                why, h2res = h2_probe(PORTS[proxy])
                probe["h2load"] = "ok" if why is None else why
                probe["h2 cipher"] = h2res.get("cipher")
                probe["h2 key exchange"] = h2res.get("kx")
                if why:
                    unavailable[(w, "h2", proxy)] = why
                    b.log(f"{proxy}: h2 not available ({why}); its h2 runs are skipped")
            probes[f"{proxy} (N={w})"] = probe
            b.log(f"{proxy} TLS probe: {probe}")
            if "resumed" in scenarios and not probe.get("resumed"):
                b.log(f"WARNING: {proxy} did not resume a TLS session: its 'resumed' rate counts full handshakes")
            if "handshake" in scenarios and " 200 " not in (probe.get("s_time request") or "") + " ":
                b.log(f"WARNING: {proxy} answers s_time's request with {probe.get('s_time request')!r}, "
                      f"not 200: its 'handshake' row is not comparable")
        for sc in scenarios:
            for proxy in proxies:
                if (w, sc, proxy) in unavailable:
                    continue
                wd = cfg.warm_portcullis if proxy == "portcullis" else cfg.warm_other
                if wd > 0:
                    b.log(f"warm-up {proxy} {sc} {wd}s")
                    if sc == "handshake":
                        run_s_time(PORTS[proxy], cfg.path, wd, cfg.handshake_clients)
                    else:
                        run_tool(load_argv(sc, PORTS[proxy], cfg, wd), wd + 60)
                        # A second, short run: the measured runs open and close their connections, and a JIT
                        # compiles those paths at their first use (the end of the first warm-up run), which
                        # would otherwise fall in the first measured round.
                        run_tool(load_argv(sc, PORTS[proxy], cfg, RECONNECT_WARMUP), RECONNECT_WARMUP + 60)
        for rnd in range(1, args.rounds + 1):
            for sc in scenarios:
                # interleaved, and the order rotates each round so no proxy always runs first or last
                k = (rnd - 1) % len(proxies)
                for proxy in proxies[k:] + proxies[:k]:
                    if (w, sc, proxy) in unavailable:
                        continue
                    res = measure(sc, proxy, rnd, cfg, backend.pid, tag, w)
                    results.append(res)
                    if res["failure"]:
                        unavailable[(w, sc, proxy)] = res["failure"]
                        b.log(f"{proxy}: {sc} failed ({res['failure']}); its later {sc} runs are skipped")
        for proxy in proxies:
            b.PROCS.stop(PROC_NAMES[proxy])
    b.PROCS.stop("backend")

    # a run that failed is reported as "not available", not as a zero in the medians
    results = [r for r in results if not r["failure"]]
    facts["load average at end"] = open("/proc/loadavg").read().strip()
    table, verdicts = build_table(results, workers_list, proxies, scenarios,
                                  {k: v for k, v in unavailable.items()})
    elapsed = time.time() - started
    print(table)
    print()
    for v in verdicts:
        print(f"- {v}")

    load_cmds = sorted({re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", r["cmd"]) for r in results})
    md = [f"# Portcullis TLS / HTTP/2 benchmark — {tag}", "",
          f"Run: `bench/run.sh tls {' '.join(shlex.quote(a) for a in sys.argv[1:])}` (duration {cfg.duration}s, "
          f"rounds {args.rounds}, BENCH_CONNECTIONS={cfg.conns}, BENCH_THREADS={cfg.threads}, "
          f"BENCH_H2_CLIENTS={cfg.h2_clients}, BENCH_H2_STREAMS={cfg.h2_streams}, warm-up {cfg.warm_other}s / "
          f"Portcullis {cfg.warm_portcullis}s per scenario) — took {elapsed / 60:.1f} min.", "",
          "## Machine and tools", ""]
    md += [f"- **{k}**: `{v}`" for k, v in {**facts, **versions}.items()]
    md += ["", "## Results (median of rounds; ratios: median of the per-round ratios)", "", table, ""]
    md += [f"- {v}" for v in verdicts]
    md += ["", "## What each proxy negotiated (probe with Python's ssl, the same libssl as wrk)", ""]
    md += [f"- {k}: `{json.dumps(v)}`" for k, v in probes.items()]
    md += ["", "Certificate: self-signed ECDSA P-256 / SHA-256 (`openssl genpkey -algorithm EC -pkeyopt "
           "ec_paramgen_curve:P-256`). `handshake` counts full handshakes (s_time -new never offers a session); "
           "`resumed` counts resumed ones where the probe says `\"resumed\": true`.", "", "## Commands", ""]
    md += [f"    {c}" for c in load_cmds]
    md += ["", f"Ports: backend {b.BACKEND_PORT}, " + ", ".join(f"{p} {PORTS[p]}" for p in proxies) + ".", ""]
    for k, v in commands.items():
        if "config" in k:
            md += [f"<details><summary>{k}</summary>", "", "```", v.strip(), "```", "", "</details>", ""]
        else:
            md += [f"- {k}: `{v}`"]
    with open(args.out, "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(b.RAW_DIR, f"tls_{tag}_results.json"), "w") as f:
        json.dump({"facts": facts, "versions": versions, "probes": probes, "runs": results,
                   "unavailable": {f"N={k[0]} {k[1]} {k[2]}": v for k, v in unavailable.items()}}, f, indent=1)
    b.log(f"wrote {args.out} and {b.RAW_DIR}/tls_{tag}_*; took {elapsed:.0f}s")
    b.shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
