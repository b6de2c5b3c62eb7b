"""valuesd, on an embedded sled store or on PostgreSQL, through its HTTP API."""

import glob
import hashlib
import json
import os
import secrets
import subprocess

from . import common, workload
from .common import Client, Request

ORG = "bench"


class Valuesd:
    def __init__(self, binary, postgres=None):
        """`postgres`: the path of scripts/postgres-test-server, for the
        store on PostgreSQL; None for sled."""
        self.binary = binary
        self.postgres = postgres
        self.name = "valuesd, PostgreSQL" if postgres else "valuesd, sled"
        self.token = secrets.token_hex(16)
        self.headers = {"Authorization": f"Bearer {self.token}",
                        "Content-Type": "application/json"}

    def start(self, work):
        self.work = work
        tokens = os.path.join(work, "tokens.json")
        with open(tokens, "w") as f:
            json.dump({"tokens": [{"sha256": hashlib.sha256(self.token.encode()).hexdigest(),
                                   "actor": "load", "org_role": "administrator"}]}, f)
        if self.postgres:
            os.chmod(work, 0o755)  # the server runs as `postgres` when we are root
            self.pg_env = dict(os.environ, VALUESET_PG_STATE=os.path.join(work, "pg"))
            common.sh(self.postgres, "start", env=self.pg_env, stdout=subprocess.DEVNULL)
            store = common.sh(self.postgres, "url", env=self.pg_env, stdout=subprocess.PIPE,
                              text=True).stdout.strip()
        else:
            store = os.path.join(work, "store")
        self.port = common.free_port()
        env = dict(os.environ, VALUESET_MASTER_KEY=secrets.token_hex(32))
        self.proc = common.start(
            [self.binary, "--store", store, "--org", ORG, "--listen", f"127.0.0.1:{self.port}",
             "--tokens", tokens], os.path.join(work, "valuesd.log"), env=env)
        common.wait_http(self.port, "/readyz", self.name)
        self.client = Client(self.port, self.headers)
        self.pid = self.proc.pid

    def call(self, method, path, body=None):
        return self.client.call(method, f"/orgs/{ORG}{path}", body)

    def seed(self, big):
        for size in workload.SIZES:
            app = f"c{size}"
            self.call("POST", "/apps", {"id": app, "name": app})
            self.call("POST", f"/apps/{app}/envs", {"id": "prod", "name": "Production",
                                                    "type": "production"})
            for i in range(size):
                self.call("POST", f"/apps/{app}/values",
                          {"key": workload.key(i), "value": workload.app_value(i),
                           "is_secret": i < workload.SECRETS, "description": ""})
                if workload.overridden(size, i):
                    self.call("POST", f"/apps/{app}/envs/prod/values",
                              {"key": workload.key(i), "value": workload.env_value(i),
                               "description": ""})
            listed = self.call("GET", f"/apps/{app}/envs/prod/values")
            if len(listed) != size:
                common.fail(f"{self.name}: the Environment lists {len(listed)} values")
        for app in ["writes", "feed", "disk"]:
            self.call("POST", "/apps", {"id": app, "name": app})
            for i in range(workload.WRITE_KEYS):
                self.call("POST", f"/apps/{app}/values", {"key": f"w{i}", "value": "0",
                                                          "description": ""})
        self.call("POST", "/apps", {"id": "big", "name": "big"})
        for k, v in workload.big_store(big).items():
            self.call("POST", "/apps/big/values", {"key": k, "value": v, "description": ""})

    def read(self, size):
        return Request("GET", f"/orgs/{ORG}/apps/c{size}/envs/prod/values",
                       headers=self.headers)

    def writes(self, thread, app="writes"):
        return [Request("PATCH", f"/orgs/{ORG}/apps/{app}/values/w{k}", {"value": v},
                        self.headers) for k, v in workload.write_values(thread)]

    def disk_writes(self, thread):
        return self.writes(thread, "disk")

    def deploy(self):
        body = {"id": "api", "variables": workload.deployment()}
        return Request("POST", f"/orgs/{ORG}/apps/c1000/envs/prod/resolve?reveal_secrets=true",
                       body, self.headers)

    def check_deploy(self):
        """The resolved workload is the one every system serves."""
        request = self.deploy()
        r = self.client.call(request.method, request.path, json.loads(request.body))
        got = {name: v["value"] for name, v in r["variables"].items()}
        if got != workload.resolved_deployment():
            common.fail(f"{self.name}: the deployment resolved to other values")

    def subscribe(self):
        """The raw request of one change-feed subscriber, and how it frames events."""
        head = (f"GET /orgs/{ORG}/apps/feed/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n")
        return head.encode(), "sse"

    def feed_write(self, n):
        self.call("PATCH", "/apps/feed/values/w0", {"value": f"feed-{n}"})

    def compact(self):
        """sled compacts on its own; PostgreSQL's VACUUM runs in `disk`."""

    def disk(self):
        if self.postgres:
            return self.pg_size()
        return common.disk_bytes(os.path.join(self.work, "store"))

    def pg_size(self):
        state = self.pg_env["VALUESET_PG_STATE"]
        psql = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
        with open(os.path.join(state, "port")) as f:
            port = f.read().strip()
        # PostgreSQL's own compaction is VACUUM (autovacuum's work, asked for now).
        out = common.sh(psql, "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-At",
                        "-c", "VACUUM", "-c", "SELECT pg_database_size(current_database())",
                        stdout=subprocess.PIPE, text=True).stdout.split()
        return int(out[-1])

    def stop(self):
        try:
            if hasattr(self, "proc"):
                common.stop(self.proc, self.name)
                with open(os.path.join(self.work, "valuesd.log")) as log:
                    if self.token in log.read():
                        common.fail(f"{self.name}: the token is in valuesd's log")
        finally:
            if hasattr(self, "pg_env"):
                common.sh(self.postgres, "stop", env=self.pg_env, stdout=subprocess.DEVNULL)
