"""valuesd on sled, its store on a small filesystem of the run's own (a
tmpfs with a size), written to until the disk is full: each write then
refused is a typed `no_space` (507) and leaves nothing; reads go on; once
space is freed, writes succeed again without a restart; stopped, the store
verifies and holds exactly the acknowledged writes. valuesctl gets the same
error, and the service starts again on the full disk."""

import http.client
import json
import os
import subprocess

from .common import Replica, Service, fail, say, sh

SIZE = "64m"
# Space held back and freed once the disk is full.
BALLAST = 8 << 20
VALUE = "x" * 3000


def run(work, valuesd, valuesctl):
    mnt = os.path.join(work, "small")
    os.mkdir(mnt)
    sh("mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", mnt)
    try:
        return scenario(work, valuesd, valuesctl, mnt)
    finally:
        subprocess.run(["umount", mnt])


def post(service, replica, key):
    conn = http.client.HTTPConnection(replica.host, replica.port, timeout=60)
    conn.request("POST", "/orgs/faults/apps/full/values",
                 json.dumps({"key": key, "value": VALUE, "description": ""}), service.headers)
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"null")


def scenario(work, valuesd, valuesctl, mnt):
    ballast = os.path.join(mnt, "ballast")
    with open(ballast, "wb") as f:
        f.write(b"\0" * BALLAST)
    store = os.path.join(mnt, "store")
    service = Service(work, valuesd, valuesctl)
    replica = Replica(service, "valuesd", store)
    replica.start()
    acked, refused = [], 0
    result = {}
    try:
        replica.wait_ready()
        service.call(replica.host, replica.port, "POST", "/apps", {"id": "full", "name": "full"})
        n = 0
        while refused < 5:
            key = f"k{n:06}"
            status, body = post(service, replica, key)
            if status == 201:
                acked.append(key)
                n += 1
            elif status == 507 and body.get("error") == "no_space":
                refused += 1
                n += 1
            else:
                fail(f"filling the disk, {key}: {status} {body}")
            if n > 100_000:
                fail("the disk never filled")
        say(f"the disk is full after {len(acked)} writes")
        result["acknowledged before full"] = len(acked)
        listed = service.call(replica.host, replica.port, "GET", "/apps/full/values")
        if sorted(v["key"] for v in listed) != acked:
            fail("with the disk full, the App does not hold exactly the acknowledged writes")
        # The library through valuesctl says the same, and a full disk
        # does not keep the service from starting again.
        replica.stop()
        out = subprocess.run([valuesctl, "--store", store, "set", "full", "by-ctl", "v"],
                             env=service.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        if out.returncode == 0 or '"error":"no_space"' not in out.stdout:
            fail(f"valuesctl set on a full disk: exit {out.returncode}, {out.stdout[:300]}")
        replica.start()
        replica.wait_ready()
        os.remove(ballast)
        status, body = post(service, replica, "after")
        if status != 201:
            fail(f"a write after space was freed: {status} {body}")
        acked.append("after")
    finally:
        replica.stop()
    stored = service.ctl(store, "list", "full")
    if sorted(v["key"] for v in stored) != sorted(acked):
        fail("the store does not hold exactly the acknowledged writes")
    checked = service.ctl(store, "verify")
    result["versions verified"] = checked["versions"]
    service.check_logs()
    return result
