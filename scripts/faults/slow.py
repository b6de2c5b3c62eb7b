"""A thousand slow clients: half send a request's head a byte every few
seconds, half send a whole head and then its body a byte every few
seconds. Meanwhile normal clients read an Environment's 100 values, and
their latency is measured, before and during. The slow ones must not keep
the others from being served, and the service closes them: a head not
read whole within the header timeout, a body within the request timeout."""

import http.client
import resource
import selectors
import socket
import threading
import time

from .common import Replica, Service, fail, say

HEADER_TIMEOUT = 2
REQUEST_TIMEOUT = 4


def run(work, valuesd, valuesctl, clients, seconds, interval):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < 2 * clients + 256:
        fail(f"{clients} slow clients need more open files than the limit, {hard}")
    service = Service(work, valuesd, valuesctl)
    replica = Replica(service, "valuesd", f"{work}/store",
                      args=["--header-timeout", str(HEADER_TIMEOUT),
                            "--request-timeout", str(REQUEST_TIMEOUT)])
    replica.start()
    try:
        replica.wait_ready()
        seed(service, replica)
        before = measure(service, replica, seconds / 2)
        slow = SlowClients(replica, service.token, clients, interval)
        slow.start()
        time.sleep(interval)
        during = measure(service, replica, seconds)
        slow.stop()
    finally:
        replica.stop()
    service.check_logs()
    result = {"clients": clients, "byte every (s)": interval,
              "normal before p50/p99 (ms)": before, "normal during p50/p99 (ms)": during,
              "slow heads closed": slow.closed["head"], "slow bodies closed": slow.closed["body"],
              "most open at once": slow.most_open}
    if slow.most_open < clients:
        fail(f"only {slow.most_open} of {clients} slow clients were connected at once")
    if not slow.closed["head"] or not slow.closed["body"]:
        fail(f"the service did not close slow clients: {result}")
    if during[1] > 1000:
        fail(f"with slow clients, normal requests took {during[1]} ms at p99")
    return result


def seed(service, replica):
    h, p = replica.host, replica.port
    service.call(h, p, "POST", "/apps", {"id": "slow", "name": "slow"})
    service.call(h, p, "POST", "/apps/slow/envs", {"id": "prod", "name": "prod", "type": "production"})
    for i in range(100):
        service.call(h, p, "POST", "/apps/slow/values",
                     {"key": f"k{i:03}", "value": f"value {i}", "description": ""})


def measure(service, replica, seconds, threads=4):
    """p50 and p99, in ms, of reads from `threads` clients for `seconds`;
    every one must be 200."""
    latencies, errors = [], []
    deadline = time.monotonic() + seconds

    def client():
        conn = http.client.HTTPConnection(replica.host, replica.port, timeout=30)
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                conn.request("GET", "/orgs/faults/apps/slow/envs/prod/values",
                             headers=service.headers)
                r = conn.getresponse()
                r.read()
            except (OSError, http.client.HTTPException) as e:
                errors.append(repr(e))
                return
            if r.status != 200:
                errors.append(f"{r.status}")
                return
            latencies.append((time.monotonic() - start) * 1000)

    pool = [threading.Thread(target=client) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors or not latencies:
        fail(f"a normal request failed: {errors[:3]}")
    latencies.sort()
    return [round(latencies[len(latencies) // 2], 1),
            round(latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)], 1)]


class SlowClients(threading.Thread):
    """`count` connections kept open, each sending one byte every
    `interval` seconds; one the service closed is counted and opened
    again."""

    def __init__(self, replica, token, count, interval):
        super().__init__(daemon=True)
        self.addr = (replica.host, replica.port)
        self.count, self.interval = count, interval
        self.body_head = (f"POST /orgs/faults/apps/slow/values HTTP/1.1\r\nHost: x\r\n"
                          f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                          f"Content-Length: 100000\r\n\r\n").encode()
        self.closed = {"head": 0, "body": 0}
        self.most_open = 0
        self.halt = threading.Event()
        self.sel = selectors.DefaultSelector()

    def open(self, kind):
        s = socket.create_connection(self.addr)
        s.setblocking(False)
        s.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" if kind == "head" else self.body_head)
        self.sel.register(s, selectors.EVENT_READ, kind)

    def run(self):
        for i in range(self.count):
            self.open("head" if i % 2 else "body")
        while not self.halt.is_set():
            self.most_open = max(self.most_open, len(self.sel.get_map()))
            for key in list(self.sel.get_map().values()):
                try:
                    key.fileobj.send(b"x" if key.data == "head" else b" ")
                except OSError:
                    self.reopen(key)
            end = time.monotonic() + self.interval
            while time.monotonic() < end and not self.halt.is_set():
                for key, _ in self.sel.select(timeout=0.1):
                    try:
                        data = key.fileobj.recv(4096)
                    except OSError:
                        data = b""
                    if not data or b"HTTP/1.1 408" in data:
                        self.reopen(key)

    def reopen(self, key):
        self.closed[key.data] += 1
        self.sel.unregister(key.fileobj)
        key.fileobj.close()
        if not self.halt.is_set():
            self.open(key.data)

    def stop(self):
        self.halt.set()
        self.join()
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        say(f"slow clients: {self.closed}")
