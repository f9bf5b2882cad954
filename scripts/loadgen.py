"""Load tools shared by the benchmark scripts (bench_queue.py, bench_dashboard.py).

- open_loop(): requests at a FIXED arrival rate, request i scheduled at t0 + i/rate
  whatever happened before, latency counted from the scheduled time (no coordinated
  omission). wrk2 is not packaged here, so this is a thread pool over http.client.
- wrk(): closed-loop saturation with Debian's wrk, optionally rotating over paths.
"""

from __future__ import annotations

import http.client
import re
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else float("nan")


def open_loop(base: str, paths: list[str], cookie: str | None, rate: float, seconds: float, *,
              threads: int = 16, ok: Callable[[int, bytes], bool] = lambda status, body: status == 200) -> dict:
    """Latency of every request (errors included: a stall must not vanish), and the error count."""
    parts = urlsplit(base)
    total = int(rate * seconds)
    t0 = time.perf_counter() + 0.5
    lock = threading.Lock()
    next_i = [0]
    lat: list[float] = []
    errors = [0]
    headers = {"Cookie": cookie} if cookie else {}

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= total:
                break
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                conn.request("GET", paths[i % len(paths)], headers=headers)
                resp = conn.getresponse()
                good = ok(resp.status, resp.read())
            except OSError:
                good = False
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            done = time.perf_counter()
            with lock:
                lat.append((done - due) * 1000)
                errors[0] += 0 if good else 1
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return {"rate": rate, "requests": total, "ok": total - errors[0], "errors": errors[0],
            "p50_ms": round(percentile(lat, 0.50), 1), "p95_ms": round(percentile(lat, 0.95), 1),
            "p99_ms": round(percentile(lat, 0.99), 1), "max_ms": round(max(lat), 1) if lat else float("nan"),
            "mean_ms": round(statistics.fmean(lat), 1) if lat else float("nan")}


def wrk(url: str, cookie: str | None, seconds: int, *, connections: int = 8, paths: list[str] | None = None) -> dict:
    """Saturation throughput; with `paths`, a Lua script rotates over them."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if paths:
            items = ", ".join(f'"{p}"' for p in paths)
            script.write(f"local paths = {{{items}}}\nlocal i = 0\nrequest = function()\n"
                         "  i = i + 1\n  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n")
            cmd += ["-s", script.name]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout  # noqa: S603 - wrk on loopback
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(q: str) -> float | None:
        m = re.search(rf"{q}%\s+([\d.]+)(us|ms|s)", out)
        return round(float(m.group(1)) * unit[m.group(2)], 1) if m else None

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "non_2xx_3xx": int(non2xx.group(1)) if non2xx else 0, "p50_ms": latency("50"), "p99_ms": latency("99")}
