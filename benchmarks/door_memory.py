"""Memory of a real `ventanilla serve` while clients push huge bodies at the WhatsApp webhook.

Starts the server on a fresh SQLite database with WhatsApp switched on, then sends, four at
a time, POSTs of 500 MB each: first unsigned (no X-Hub-Signature-256), then with a forged
signature and no Content-Length (chunked), so the server must read some before refusing.
The bodies are generated as they are sent, never held in memory. The server's resident
memory (VmRSS) is read before, sampled throughout (peak) and read after, and printed with
what each POST was answered and how much of it the server took, as one JSON line.

    uv run python benchmarks/door_memory.py [--size-mb 500] [--posts 4]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-app-secret"
CHUNK = 64 * 1024
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start(folder: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENTANILLA_")}
    env |= {"VENTANILLA_WHATSAPP_APP_SECRET": SECRET, "VENTANILLA_WHATSAPP_VERIFY_TOKEN": "v"}
    database = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    command = [sys.executable, "-m", "ventanilla", "serve", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--database", database],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


def post(url: str, size: int, headers: dict[str, str]) -> dict[str, object]:
    """One huge POST, generated as it goes; what it was answered and how much was taken."""
    taken = [0]
    filler = b"a" * CHUNK

    def body() -> Iterator[bytes]:
        yield b'{"entry": "'
        while taken[0] < size:
            taken[0] += CHUNK
            yield filler

    try:
        status: int | str = httpx.post(url, content=body(), headers=headers, timeout=60).status_code
    except httpx.HTTPError as exc:  # the server closed the connection before answering
        status = type(exc).__name__
    return {"status": status, "sent_mb": round(taken[0] / MB, 1)}


def burst(url: str, posts: int, size: int, headers: dict[str, str], pid: int) -> dict[str, object]:
    peak = [rss_mb(pid)]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak.append(rss_mb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    with ThreadPoolExecutor(posts) as pool:
        results = list(pool.map(lambda _: post(url, size, headers), range(posts)))
    seconds = time.monotonic() - started
    done.set()
    sampler.join()
    return {"results": results, "seconds": round(seconds, 2), "peak_rss_mb": round(max(peak), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--posts", type=int, default=4)
    args = parser.parse_args()
    size = args.size_mb * MB
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        process = start(Path(tmp), port)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, process)
            time.sleep(1)  # let start-up allocations settle
            url = f"{base}/whatsapp/webhook"
            json_type = {"Content-Type": "application/json"}
            before = rss_mb(process.pid)
            unsigned = burst(url, args.posts, size, json_type, process.pid)
            forged_headers = {**json_type, "X-Hub-Signature-256": "sha256=" + "0" * 64}
            forged = burst(url, args.posts, size, forged_headers, process.pid)
            after = rss_mb(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(
        json.dumps(
            {
                "benchmark": "door_memory",
                "posts": args.posts,
                "size_mb": args.size_mb,
                "rss_before_mb": round(before, 1),
                "unsigned": unsigned,
                "forged_chunked": forged,
                "rss_after_mb": round(after, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
