"""A replica in a network namespace of the run's own, reaching PostgreSQL
over one veth link and reached by clients over another: the database link
is slowed, then cut, then mended. Cut, the replica answers 503 with
Retry-After well within its request timeout instead of hanging; mended, it
serves again without a restart.

The kernels this runs on may lack tc's netem (this project's CI machines
do), so the link is slowed with a token bucket (`tc qdisc tbf`, a narrow
link: big answers take long) and cut by taking the database's end of the
veth pair down: the replica's end stays up and its packets vanish without
an answer, as in a partition."""

import http.client
import json
import os
import shutil
import subprocess
import threading
import time

from .common import Postgres, Replica, Service, fail, say, sh, status_of, wait_until

DB_NET, API_NET = "10.231.1", "10.231.2"
# The service's request timeout: a cut must be answered sooner.
REQUEST_TIMEOUT = 30.0


class Namespace:
    """A network namespace with two veth links to the root namespace."""

    def __init__(self):
        tag = os.getpid() % 100000
        self.name = f"valueset-bad-day-{tag}"
        self.db, self.api = f"vsdb{tag}", f"vsapi{tag}"

    def inside(self, *args):
        return ["ip", "netns", "exec", self.name, *args]

    def create(self):
        sh("ip", "netns", "add", self.name)
        sh(*self.inside("ip", "link", "set", "lo", "up"))
        for dev, net in [(self.db, DB_NET), (self.api, API_NET)]:
            sh("ip", "link", "add", dev, "type", "veth", "peer", "name", f"{dev}p")
            sh("ip", "link", "set", f"{dev}p", "netns", self.name)
            sh("ip", "addr", "add", f"{net}.1/24", "dev", dev)
            sh("ip", "link", "set", dev, "up")
            sh(*self.inside("ip", "addr", "add", f"{net}.2/24", "dev", f"{dev}p"))
            sh(*self.inside("ip", "link", "set", f"{dev}p", "up"))
        # Each end knows the other's hardware address for good, so a cut
        # link drops packets silently instead of failing the neighbour
        # lookup ("no route to host"), as a partition past a router does.
        outer = self.mac(["ip"], self.db)
        inner = self.mac(self.inside("ip"), f"{self.db}p")
        sh("ip", "neigh", "replace", f"{DB_NET}.2", "lladdr", inner, "nud", "permanent",
           "dev", self.db)
        sh(*self.inside("ip", "neigh", "replace", f"{DB_NET}.1", "lladdr", outer, "nud",
                        "permanent", "dev", f"{self.db}p"))

    @staticmethod
    def mac(ip, dev):
        out = sh(*ip, "-o", "link", "show", dev, stdout=subprocess.PIPE, text=True).stdout
        return out.split("link/ether ")[1].split()[0]

    def slow(self):
        """Both ends of the database link send at most 1 Mbit/s."""
        spec = ["tbf", "rate", "1mbit", "burst", "16kbit", "latency", "2s"]
        sh("tc", "qdisc", "replace", "dev", self.db, "root", *spec)
        sh(*self.inside("tc", "qdisc", "replace", "dev", f"{self.db}p", "root", *spec))

    def cut(self):
        sh("ip", "link", "set", self.db, "down")

    def mend(self):
        sh("ip", "link", "set", self.db, "up")
        sh("tc", "qdisc", "del", "dev", self.db, "root")
        sh(*self.inside("tc", "qdisc", "del", "dev", f"{self.db}p", "root"))

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)
        for dev in [self.db, self.api]:
            subprocess.run(["ip", "link", "del", dev], stderr=subprocess.DEVNULL)


def run(work, valuesd, valuesctl):
    if not (shutil.which("ip") and shutil.which("tc")):
        say("installing iproute2 from the distribution")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        sh("apt-get", "update", "-qq", env=env, stdout=subprocess.DEVNULL)
        sh("apt-get", "install", "-y", "-qq", "iproute2", env=env, stdout=subprocess.DEVNULL)
    net = Namespace()
    net.create()
    pg = None
    try:
        pg = Postgres(work, VALUESET_PG_LISTEN=f"127.0.0.1,{DB_NET}.1",
                      VALUESET_PG_TRUST=f"{DB_NET}.0/24")
        port = pg.start().rsplit(":", 1)[1].split("/")[0]
        store = f"postgres://postgres@{DB_NET}.1:{port}/postgres?table=bad_day_net"
        return scenario(work, valuesd, valuesctl, net, store)
    finally:
        if pg:
            pg.stop()
        net.delete()


def timed_write(service, replica, key, value):
    """POST a value; its status, Retry-After and seconds taken."""
    start = time.monotonic()
    conn = http.client.HTTPConnection(replica.host, replica.port, timeout=REQUEST_TIMEOUT * 3)
    conn.request("POST", "/orgs/faults/apps/netcut/values",
                 json.dumps({"key": key, "value": value, "description": ""}), service.headers)
    r = conn.getresponse()
    r.read()
    return r.status, r.getheader("Retry-After"), time.monotonic() - start


def scenario(work, valuesd, valuesctl, net, store):
    service = Service(work, valuesd, valuesctl)
    replica = Replica(service, "replica", store, host=f"{API_NET}.2", prefix=net.inside())
    replica.start()
    result = {}
    try:
        replica.wait_ready()
        service.call(replica.host, replica.port, "POST", "/apps", {"id": "netcut", "name": "netcut"})
        status, _, took = timed_write(service, replica, "before", "1")
        if status != 201:
            fail(f"a write before any fault: {status}")
        net.slow()
        status, _, took = timed_write(service, replica, "slow", "1")
        if status != 201:
            fail(f"a write over a slow link: {status}")
        result["write over a 1 Mbit/s link (s)"] = round(took, 2)
        net.cut()
        say("the database link is cut")
        answers = {}

        def attempt(name, call):
            answers[name] = call()

        calls = {
            "write": lambda: timed_write(service, replica, "cut", "1"),
            "read": lambda: timed_status(replica, "/orgs/faults/apps/netcut/values", service),
            "ready": lambda: timed_status(replica, "/readyz", None),
        }
        threads = [threading.Thread(target=attempt, args=item) for item in calls.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for name, (status, retry_after, took) in answers.items():
            result[f"{name} while cut"] = f"{status} in {took:.1f} s"
            if status != 503 or took >= REQUEST_TIMEOUT:
                fail(f"with the database link cut, the {name} was answered {status} "
                     f"after {took:.1f} s (503 within {REQUEST_TIMEOUT:.0f} s expected)")
            if name != "ready" and retry_after is None:
                fail(f"the {name}'s 503 has no Retry-After")
        net.mend()
        say("the database link is back")
        start = time.monotonic()
        wait_until("the replica did not serve again after the link came back",
                   lambda: timed_write(service, replica, "after", "1")[0] == 201, 60)
        result["serving again after (s)"] = round(time.monotonic() - start, 2)
        # The write refused while cut left nothing: it can be made now.
        status, _, _ = timed_write(service, replica, "cut", "1")
        if status != 201:
            fail(f"the write refused while cut, made again: {status}")
        listed = service.call(replica.host, replica.port, "GET", "/apps/netcut/values")
        if sorted(v["key"] for v in listed) != ["after", "before", "cut", "slow"]:
            fail(f"after the cut the App holds {[v['key'] for v in listed]}")
    finally:
        replica.stop()
    service.ctl(store.replace(f"{DB_NET}.1", "127.0.0.1"), "verify")
    service.check_logs()
    return result


def timed_status(replica, path, service):
    """GET `path`; its status, Retry-After and seconds taken."""
    start = time.monotonic()
    conn = http.client.HTTPConnection(replica.host, replica.port, timeout=REQUEST_TIMEOUT * 3)
    conn.request("GET", path, headers=service.headers if service else {})
    r = conn.getresponse()
    r.read()
    return r.status, r.getheader("Retry-After"), time.monotonic() - start
