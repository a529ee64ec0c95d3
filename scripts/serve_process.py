"""Starting `tern serve` for the end-to-end scripts: a free port, and a process that is healthy."""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

KEY = "e2e-key"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(tern, model, port, extra=()):
    args = [tern, "serve", "--port", str(port), "--api-key", KEY, *extra]
    if model:
        args.insert(2, model)
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"tern serve exited early:\n{process.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    process.kill()
    sys.exit("tern serve did not become healthy in 300 s")


def serve_on_device(tern, model, device, extra=()):
    """`tern serve [MODEL] --device DEVICE --max-num-seqs 64 EXTRA` on a free port, without an API
    key, its output discarded (stderr kept for an early exit); returns (process, port) once
    healthy."""
    port = free_port()
    args = [tern, "serve", *([model] if model else []), "--device", device, "--port", str(port),
            "--max-num-seqs", "64", *extra]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        if process.poll() is not None:
            sys.exit(f"tern serve exited early: {process.stderr.read()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return process, port
        except OSError:
            time.sleep(0.5)
    process.kill()
    sys.exit("tern serve did not become healthy")
