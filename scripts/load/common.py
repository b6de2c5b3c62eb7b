"""What every system of the load comparison shares: processes, ports, a
keep-alive client, wrk and its Lua scripts, disk and memory figures."""

import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time


def fail(message):
    sys.exit(f"compare-load: {message}")


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def apt_install(*packages):
    """Installs Debian packages (CI starts on a clean machine)."""
    print(f"compare-load: installing {' '.join(packages)} from the distribution",
          file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sh("apt-get", "update", "-qq", env=env, stdout=subprocess.DEVNULL)
    sh("apt-get", "install", "-y", "-qq", *packages, env=env, stdout=subprocess.DEVNULL)


def raise_fd_limit():
    """A thousand subscribers need more descriptors than the usual 1,024, in
    this process and in the servers it starts (they inherit the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, path, what, timeout=60.0):
    """Waits until `GET path` answers at all (any status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    fail(f"{what} did not answer on port {port} within {timeout:.0f} s")


def start(args, log_path, **kw):
    log = open(log_path, "w")
    return subprocess.Popen(args, stdout=log, stderr=log, **kw)


def stop(proc, what, timeout=20):
    """Stops a server by its pid: SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        print(f"compare-load: {what} did not stop on SIGTERM; killed", file=sys.stderr)


class Client:
    """One keep-alive HTTP connection, failing loudly on a status not asked for."""

    def __init__(self, port, headers):
        self.port = port
        self.headers = headers
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, ok=(200, 201, 204), headers=None):
        data = None if body is None else json.dumps(body)
        headers = {**self.headers, **(headers or {})}
        try:
            self.conn.request(method, path, data, headers)
            r = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # valuesd closes a keep-alive connection left idle past its
            # header timeout (10 s), as the load runs between these calls
            # do; the request was not answered, so it is sent again on a
            # new connection, as HTTP clients do.
            self.conn.close()
            self.conn.request(method, path, data, headers)
            r = self.conn.getresponse()
        text = r.read()
        if r.status not in ok:
            fail(f"{method} {path}: {r.status} {text[:300]!r}")
        return json.loads(text) if text else None


class Request:
    """One HTTP request as wrk sends it."""

    def __init__(self, method, path, body=None, headers=None):
        self.method, self.path = method, path
        self.body = None if body is None else (body if isinstance(body, str) else json.dumps(body))
        self.headers = headers or {}

    def lua(self):
        headers = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in self.headers.items())
        body = "nil" if self.body is None else json.dumps(self.body)
        return f"wrk.format({json.dumps(self.method)}, {json.dumps(self.path)}, {{{headers}}}, {body})"


def wrk_script(path, per_thread, limit=0):
    """A Lua script for wrk: thread T sends `per_thread[T]` in turn, and stops
    after `limit` answers when one is given."""
    lines = ["local made = 0",
             "function setup(thread) thread:set('tid', made); made = made + 1 end",
             "function init(args)",
             "  counter, seen = 0, 0",
             "  local all = {"]
    for requests in per_thread:
        lines.append("    {" + ", ".join(r.lua() for r in requests) + "},")
    lines += ["  }",
              "  mine = all[(tid % #all) + 1]",
              "end",
              "request = function()",
              "  counter = counter + 1",
              "  return mine[(counter % #mine) + 1]",
              "end"]
    if limit:
        lines += ["response = function(status, headers, body)",
                  "  seen = seen + 1",
                  f"  if seen >= {limit} then wrk.thread:stop() end",
                  "end"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def send(port, per_thread, count):
    """Sends `count` requests over one connection per list of
    `per_thread`, each taking its list in turn; every one must be 2xx.
    (wrk runs for a time, not a count.)"""
    errors = []

    def worker(requests, n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for i in range(n):
                r = requests[i % len(requests)]
                conn.request(r.method, r.path, r.body, r.headers)
                answer = conn.getresponse()
                text = answer.read()
                if answer.status // 100 != 2:
                    errors.append(f"{r.method} {r.path}: {answer.status} {text[:200]!r}")
                    return
        except OSError as e:
            errors.append(f"{e}")

    share = [count // len(per_thread) + (i < count % len(per_thread))
             for i in range(len(per_thread))]
    threads = [threading.Thread(target=worker, args=(reqs, n))
               for reqs, n in zip(per_thread, share)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        fail(errors[0])


def millis(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        fail(f"cannot read wrk's latency {text!r}")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def wrk(port, script, connections, duration):
    """Runs wrk; returns requests per second, p50 and p99 in milliseconds.
    Any answer that is not 2xx, or a socket error, fails the run."""
    threads = min(connections, 2)
    out = sh("wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", duration,
             "--timeout", "10s", "-s", script, f"http://127.0.0.1:{port}/",
             stdout=subprocess.PIPE, text=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        fail(f"wrk saw failed requests:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = millis(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = millis(re.search(r"\s99%\s+(\S+)", out).group(1))
    return rps, p50, p99


def disk_bytes(path):
    """Bytes the files under `path` take on disk (blocks, as du counts)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    fail(f"no VmRSS for pid {pid}")


def which_or_install(binary, *packages):
    if not shutil.which(binary):
        apt_install(*packages)
    return shutil.which(binary)
