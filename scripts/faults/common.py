"""What the fault runs share: valuesd replicas, a throwaway PostgreSQL,
valuesctl, and failing loudly."""

import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import http.client

ORG = "faults"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_SCRIPT = os.path.join(ROOT, "scripts", "postgres-test-server")


def fail(message):
    sys.exit(f"bad-day: {message}")


def say(message):
    print(f"bad-day: {message}", file=sys.stderr, flush=True)


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def status_of(host, port, path, timeout=5.0, headers=None):
    """The status of `GET path`, or None when nothing answers."""
    try:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        r.read()
        return r.status
    except (OSError, http.client.HTTPException):
        return None


def wait_until(what, check, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    fail(f"{what} within {timeout:.0f} s")


class Postgres:
    """scripts/postgres-test-server with a state directory of this run's own."""

    def __init__(self, work, **env):
        os.chmod(work, 0o755)  # the server runs as `postgres` when we are root
        self.env = dict(os.environ, VALUESET_PG_STATE=os.path.join(work, "pg"), **env)

    def run(self, *args):
        return sh(PG_SCRIPT, *args, env=self.env, stdout=subprocess.PIPE,
                  text=True).stdout.strip()

    def start(self):
        return self.run("start")

    def stop(self):
        self.run("stop")


class Service:
    """The binaries, the token and the master key every replica shares."""

    def __init__(self, work, valuesd, valuesctl):
        self.work, self.valuesd, self.valuesctl = work, valuesd, valuesctl
        self.token = secrets.token_hex(16)
        self.master_key = secrets.token_hex(32)
        self.tokens = os.path.join(work, "tokens.json")
        with open(self.tokens, "w") as f:
            json.dump({"tokens": [{"sha256": hashlib.sha256(self.token.encode()).hexdigest(),
                                   "actor": "faults", "org_role": "administrator"}]}, f)
        self.headers = {"Authorization": f"Bearer {self.token}",
                        "Content-Type": "application/json"}

    def env(self):
        return dict(os.environ, VALUESET_MASTER_KEY=self.master_key)

    def call(self, host, port, method, path, body=None, ok=(200, 201, 204)):
        conn = http.client.HTTPConnection(host, port, timeout=60)
        conn.request(method, f"/orgs/{ORG}{path}",
                     None if body is None else json.dumps(body), self.headers)
        r = conn.getresponse()
        text = r.read()
        if r.status not in ok:
            fail(f"{method} {path}: {r.status} {text[:300]!r}")
        return json.loads(text) if text else None

    def ctl(self, store, *args):
        out = sh(self.valuesctl, "--store", store, *args, env=self.env(),
                 stdout=subprocess.PIPE, text=True).stdout
        return json.loads(out)

    def check_logs(self):
        """No log of any replica holds the token."""
        for name in os.listdir(self.work):
            if name.endswith(".log"):
                with open(os.path.join(self.work, name), errors="replace") as f:
                    if self.token in f.read():
                        fail(f"the token is in {name}")


class Replica:
    """One valuesd process; `prefix` runs it inside a network namespace."""

    def __init__(self, service, name, store, host="127.0.0.1", prefix=(), args=()):
        self.service, self.name, self.store = service, name, store
        self.host, self.prefix, self.args = host, list(prefix), list(args)
        self.port = free_port() if not prefix else 8080
        self.proc = None

    def start(self):
        log = open(os.path.join(self.service.work, f"{self.name}.log"), "a")
        self.proc = subprocess.Popen(
            self.prefix + [self.service.valuesd, "--store", self.store, "--org", ORG,
                           "--listen", f"{self.host}:{self.port}", "--tokens",
                           self.service.tokens] + self.args,
            stdout=log, stderr=log, env=self.service.env())

    def wait_ready(self, timeout=60.0):
        wait_until(f"{self.name} was not ready",
                   lambda: status_of(self.host, self.port, "/readyz") == 200, timeout)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail(f"{self.name} did not stop within 20 s of SIGTERM")
