"""Writers that keep creating values through several replicas, retrying on
another replica when one fails, and the check of what they left.

Each writer creates its own keys (`wNN.kNNNNN`), one at a time. A write is
acknowledged by 201, or, after a failed attempt whose answer was lost, by
409 `key_exists` with the writer's own value there: the lost attempt was
committed. So every acknowledged write must be in the store exactly once,
and nothing else may be."""

import http.client
import json
import threading
import time
from collections import Counter

# How long one write may take, retries included, before the run fails.
WRITE_DEADLINE = 120.0


class Ledger:
    """What the writers saw: acknowledged keys with their values, answers
    by status, and anything that must fail the run."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}
        self.answers = Counter()
        self.problems = []
        self.lost_answers = 0

    def count(self, what):
        with self.lock:
            self.answers[what] += 1

    def ack(self, app, key, value, after_lost_answer=False):
        with self.lock:
            self.acked[(app, key)] = value
            self.lost_answers += after_lost_answer

    def problem(self, text):
        with self.lock:
            self.problems.append(text)


class Writer(threading.Thread):
    def __init__(self, number, app, replicas, token, org, ledger, stop, timeout=30.0):
        """`replicas`: a function giving the (host, port) of each replica,
        asked again at every attempt (a restarted replica may move)."""
        super().__init__(daemon=True)
        self.number, self.app, self.replicas = number, app, replicas
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.org, self.ledger, self.stop, self.timeout = org, ledger, stop, timeout
        self.conns = {}

    def run(self):
        n = 0
        while not self.stop.is_set() and not self.ledger.problems:
            key = f"w{self.number:02}.k{n:05}"
            if not self.write(key, f"v{self.number}-{n}"):
                return
            n += 1

    def call(self, replica, method, path, body=None):
        host, port = self.replicas()[replica]
        conn = self.conns.get((host, port))
        if conn is None:
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
            self.conns[(host, port)] = conn
        try:
            conn.request(method, f"/orgs/{self.org}{path}",
                         None if body is None else json.dumps(body), self.headers)
            r = conn.getresponse()
            return r.status, r.getheader("Retry-After"), r.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            del self.conns[(host, port)]
            raise

    def write(self, key, value):
        """Writes until acknowledged; False when the run must stop."""
        replica = self.number % len(self.replicas())
        body = {"key": key, "value": value, "description": ""}
        deadline = time.monotonic() + WRITE_DEADLINE
        failed_before = False
        while time.monotonic() < deadline:
            try:
                status, retry_after, text = self.call(replica, "POST", f"/apps/{self.app}/values", body)
            except (OSError, http.client.HTTPException):
                self.ledger.count("no answer")
                failed_before = True
                replica = (replica + 1) % len(self.replicas())
                time.sleep(0.05)
                continue
            self.ledger.count(status)
            if status == 201:
                self.ledger.ack(self.app, key, value, failed_before)
                return True
            if status == 409 and failed_before and b'"key_exists"' in text:
                return self.committed_earlier(replica, key, value)
            if status == 503:
                if retry_after is None:
                    self.ledger.problem(f"503 without Retry-After: {text[:200]!r}")
                    return False
                time.sleep(min(float(retry_after), 0.5))
            elif status != 408:
                self.ledger.problem(f"POST {key}: {status} {text[:300]!r}")
                return False
            # 408 and 503: the change may have been made; ask another replica.
            failed_before = True
            replica = (replica + 1) % len(self.replicas())
        self.ledger.problem(f"{key} not acknowledged within {WRITE_DEADLINE:.0f} s")
        return False

    def committed_earlier(self, replica, key, value):
        """A retry found the key: an attempt whose answer was lost made it.
        It must hold this writer's value."""
        status, _, text = self.call(replica, "GET", f"/apps/{self.app}/values/{key}")
        if status != 200 or json.loads(text).get("value") != value:
            self.ledger.problem(f"{key} exists with another value: {status} {text[:200]!r}")
            return False
        self.ledger.ack(self.app, key, value, after_lost_answer=True)
        return True


def check_history(ledger, app, versions, values):
    """The App's history (`valuesctl history`, newest first) and values
    (`valuesctl list`) hold every acknowledged write of `app` exactly once
    and nothing else, in versions numbered 1..N without a gap."""
    mine = {key: v for (a, key), v in ledger.acked.items() if a == app}
    numbers = sorted(int(v["id"][1:]) for v in versions)
    if numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        ledger.problem(f"{app}: version ids are not dense (missing {missing[:10]}, "
                       f"{len(numbers)} versions)")
    created = Counter()
    for v in versions:
        for change in v["change"]:
            created[change["key"]] += 1
    twice = [k for k, n in created.items() if n != 1]
    if twice:
        ledger.problem(f"{app}: keys written more than once: {twice[:10]}")
    stored = {v["key"]: v["value"] for v in values}
    if stored != mine:
        lost = sorted(set(mine) - set(stored))
        extra = sorted(set(stored) - set(mine))
        wrong = sorted(k for k in set(mine) & set(stored) if mine[k] != stored[k])
        ledger.problem(f"{app}: acknowledged but missing {lost[:10]}, present but never "
                       f"acknowledged {extra[:10]}, other values {wrong[:10]}")
    if len(versions) != len(mine):
        ledger.problem(f"{app}: {len(versions)} versions for {len(mine)} acknowledged writes")
