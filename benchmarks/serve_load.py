"""Load test of `eligibility serve` on loopback: throughput, p50/p99 latency, errors and memory.

    python benchmarks/serve_load.py                       # 1, 16 and 64 clients, 20 s each
    python benchmarks/serve_load.py --clients 64 --seconds 120

Starts its own server on a free loopback port (never anything else), then for each number of
concurrent clients runs closed-loop clients (each sends its next request when the last one is
answered) for a bounded time. Requests: POST /v1/evaluate of the loaded applicants in turn, one
in ten with a parameter override out of 12 values (so programmes and engine handles are built and
released past the service's cache of 8 throughout). Every answer is checked: a status other than
200 or a record without a verdict is an error. The server's resident memory is sampled every
second (/proc/PID/status): its peak, and its value at the start and end of each level. The CPU
time per request of the server and of this load generator (/proc/PID/stat) shows which of the two
the shared CPUs were spent on."""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import time

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IDS = ["kt", "kakao", "lg-ai-research", "naver-cloud", "nc-ai", "sk-telecom", "upstage"]


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds used so far by process `pid` (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bodies():
    for i in itertools.count():
        body = {"applicant": IDS[i % len(IDS)], "trace": i % 2 == 0}
        if i % 10 == 0:
            body["parameters"] = {"score_threshold": 40 + (i // 10) % 12}
        yield body


async def level(url: str, clients: int, seconds: float, pid: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    source = bodies()
    deadline = time.monotonic() + seconds
    samples = [rss_kb(pid)]

    async def client(http: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            body = next(source)
            start = time.perf_counter()
            try:
                r = await http.post("/v1/evaluate", json=body)
                ok = r.status_code == 200 and r.json().get("verdict") in ("selected", "excluded", "undetermined")
                if not ok:
                    errors.append(f"{r.status_code} {r.text[:120]}")
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            latencies.append(time.perf_counter() - start)

    async def sample() -> None:
        while time.monotonic() < deadline:
            await asyncio.sleep(1)
            samples.append(rss_kb(pid))

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        began = time.monotonic()
        server_cpu, client_cpu = cpu_seconds(pid), cpu_seconds(os.getpid())
        await asyncio.gather(sample(), *(client(http) for _ in range(clients)))
        elapsed = time.monotonic() - began
        server_cpu, client_cpu = cpu_seconds(pid) - server_cpu, cpu_seconds(os.getpid()) - client_cpu
    samples.append(rss_kb(pid))
    latencies.sort()
    return {"clients": clients, "requests": len(latencies), "seconds": elapsed,
            "throughput": len(latencies) / elapsed, "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
            "errors": len(errors), "first_error": errors[0] if errors else "",
            "server_ms_per_request": 1000 * server_cpu / max(1, len(latencies)),
            "client_ms_per_request": 1000 * client_cpu / max(1, len(latencies)),
            "rss_start_mb": samples[0] / 1024, "rss_end_mb": samples[-1] / 1024, "rss_peak_mb": max(samples) / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each level (at most 600)")
    args = parser.parse_args()
    seconds = min(args.seconds, 600.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = os.path.join(os.path.dirname(sys.executable), "eligibility")
    server = subprocess.Popen([exe, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            print("the server did not start", file=sys.stderr)
            return 1
        print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {seconds:g} s per level, loopback {url}")
        print(f"{'clients':>7} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
              f"{'RSS start':>10} {'RSS end':>8} {'RSS peak':>9} {'server CPU':>10} {'client CPU':>10}")
        failed = 0
        for clients in args.clients:
            r = asyncio.run(level(url, clients, seconds, server.pid))
            failed += r["errors"]
            print(f"{r['clients']:>7} {r['requests']:>9} {r['throughput']:>8.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
                  f"{r['errors']:>6} {r['rss_start_mb']:>8.1f}MB {r['rss_end_mb']:>6.1f}MB {r['rss_peak_mb']:>7.1f}MB"
                  f" {r['server_ms_per_request']:>7.2f} ms {r['client_ms_per_request']:>7.2f} ms"
                  + (f"  first error: {r['first_error']}" if r["errors"] else ""), flush=True)
        alive = server.poll() is None
        print("server still running: " + ("yes" if alive else f"NO (exit {server.returncode})"))
        return 0 if failed == 0 and alive else 1
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
