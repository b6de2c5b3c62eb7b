"""etcd from the distribution's packages, one member, through its v3 HTTP
gateway (JSON, keys and values in base64)."""

import base64
import json
import os

from . import common, workload
from .common import Client, Request


def b64(text):
    return base64.b64encode(text.encode()).decode()


def prefix_range(prefix):
    """The range of every key under `prefix` (its last byte plus one ends it)."""
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return {"key": b64(prefix), "range_end": b64(end)}


class Etcd:
    name = "etcd, one member"

    def start(self, work):
        etcd = common.which_or_install("etcd", "etcd-server")
        self.data = os.path.join(work, "etcd")
        self.port, peer = common.free_port(), common.free_port()
        client_url, peer_url = f"http://127.0.0.1:{self.port}", f"http://127.0.0.1:{peer}"
        self.proc = common.start(
            [etcd, "--name", "bench", "--data-dir", self.data,
             "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
             "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
             "--initial-cluster", f"bench={peer_url}", "--quota-backend-bytes", str(8 << 30)],
            os.path.join(work, "etcd.log"))
        self.pid = self.proc.pid
        common.wait_http(self.port, "/health", self.name)
        self.client = Client(self.port, {"Content-Type": "application/json"})

    def put(self, key, value):
        self.client.call("POST", "/v3/kv/put", {"key": b64(key), "value": b64(value)})

    def seed(self, big):
        for size in workload.SIZES:
            for k, v in workload.config(size).items():
                self.put(f"c{size}/{k}", v)
            got = self.client.call("POST", "/v3/kv/range", prefix_range(f"c{size}/"))
            if int(got.get("count", 0)) != size:
                common.fail(f"etcd: the range holds {got.get('count')} keys")
        for name, value in workload.resolved_deployment().items():
            self.put(f"deploy/{name}", value)
        for group in ["writes", "disk", "feed"]:
            for i in range(workload.WRITE_KEYS):
                self.put(f"{group}/w{i}", "0")
        for k, v in workload.big_store(big).items():
            self.put(f"big/{k}", v)

    def read(self, size):
        return Request("POST", "/v3/kv/range", prefix_range(f"c{size}/"),
                       {"Content-Type": "application/json"})

    def writes(self, thread, group="writes"):
        return [Request("POST", "/v3/kv/put", {"key": b64(f"{group}/w{k}"), "value": b64(v)},
                        {"Content-Type": "application/json"})
                for k, v in workload.write_values(thread)]

    def disk_writes(self, thread):
        return self.writes(thread, "disk")

    def deploy(self):
        """etcd keeps no secrets: not compared."""
        return None

    def subscribe(self):
        body = json.dumps({"create_request": {"key": b64("feed/w0")}})
        head = (f"POST /v3/watch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}")
        return head.encode(), "json-lines"

    def feed_write(self, n):
        self.put("feed/w0", f"feed-{n}")

    def compact(self):
        """etcd's own compaction: drop the history before the latest
        revision, then defragment the backend file."""
        revision = self.client.call("POST", "/v3/kv/range", {"key": b64("feed/w0")})[
            "header"]["revision"]
        self.client.call("POST", "/v3/kv/compaction", {"revision": revision, "physical": True})
        self.client.call("POST", "/v3/maintenance/defragment", {})

    def disk(self):
        return common.disk_bytes(self.data)

    def stop(self):
        common.stop(self.proc, self.name)
