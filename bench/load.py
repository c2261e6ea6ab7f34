"""The load generator the HTTP benchmarks share: a server started as users start it, ``wrk`` against it, and
the CPU the server side spent per request (so a shared, loaded machine still gives comparable figures).

``wrk`` (Debian package) runs in its own process with one thread and ``CONNECTIONS`` connections, cycling
through a list of paths (each request a different point or tile). CPU per request is read from ``/proc``:
the server's processes (the parent and its workers) and the database cluster's (the postmaster's children),
user + system time over the run, divided by the requests answered.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CONNECTIONS = 32
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
_TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(proc: subprocess.Popen, url: str, seconds: float = 180) -> None:
    """Until ``url`` answers 200 (a server on a loaded machine takes a while to import); raise if it exits."""
    import httpx

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {(proc.stderr.read() if proc.stderr else b'').decode()[-2000:]}")
        time.sleep(0.5)
    stop(proc)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def server_pids(server: int, postmaster: int | None) -> list[int]:
    """The server, its workers and the database's backends: whose CPU a request costs."""
    pids = [server, *_children(server)]
    if postmaster:
        pids += [postmaster, *_children(postmaster)]
    return pids


def wrk(base: str, paths: list[str], seconds: int, pids: list[int] | None = None, headers: dict | None = None) -> dict:
    """Run wrk cycling through ``paths``; throughput, p50/p99 in ms, non-2xx answers, server CPU per request."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is missing: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(
            "paths = {" + ",".join(f'"{p}"' for p in paths) + "}\nlocal i = 0\n"
            "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
        )
    args = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", lua.name]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    cpu0 = _cpu_seconds(pids or [])
    out = subprocess.run([*args, base], capture_output=True, text=True, timeout=seconds + 60).stdout
    cpu = _cpu_seconds(pids or []) - cpu0
    os.unlink(lua.name)

    def latency(pct: str) -> float:
        found = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if found is None:
            raise RuntimeError(f"wrk printed no latency: {out[-500:]}")
        value, unit = found.groups()
        return round(float(value) * _UNITS[unit], 2)

    def number(pattern: str) -> str:
        found = re.search(pattern, out)
        if found is None:
            raise RuntimeError(f"wrk printed no {pattern!r}: {out[-500:]}")
        return found.group(1)

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(number(r"(\d+) requests in"))
    return {
        "requests_per_s": float(number(r"Requests/sec:\s+([\d.]+)")),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": requests,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "server_cpu_ms_per_request": round(cpu * 1000 / max(requests, 1), 3) if pids else None,
    }
