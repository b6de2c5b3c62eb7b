"""Two replicas on one PostgreSQL under sixteen writers: one replica is
killed with SIGKILL mid-run and started again, then PostgreSQL is stopped
for a while and started again. Every acknowledged write must be there
exactly once, version ids dense, `valuesctl verify` content."""

import os
import threading
import time

from .common import Postgres, Replica, Service, fail, say, status_of
from .writers import Ledger, Writer, check_history

APPS = 4


def run(work, valuesd, valuesctl, seconds, writers):
    pg = Postgres(work)
    url = pg.start()
    try:
        return scenario(work, valuesd, valuesctl, seconds, writers, pg,
                        f"{url}?table=bad_day_replicas")
    finally:
        pg.stop()


def scenario(work, valuesd, valuesctl, seconds, writers, pg, store):
    service = Service(work, valuesd, valuesctl)
    replicas = [Replica(service, f"replica{i}", store) for i in range(2)]
    # Started together on a fresh table.
    for r in replicas:
        r.start()
    try:
        for r in replicas:
            r.wait_ready()
        apps = [f"faults{i}" for i in range(APPS)]
        for i, app in enumerate(apps):
            r = replicas[i % 2]
            service.call(r.host, r.port, "POST", "/apps", {"id": app, "name": app})
        ledger, stop = Ledger(), threading.Event()
        where = lambda: [(r.host, r.port) for r in replicas]  # noqa: E731
        pool = [Writer(i, apps[i % APPS], where, service.token, "faults", ledger, stop)
                for i in range(writers)]
        for w in pool:
            w.start()
        quarter = seconds / 4
        time.sleep(quarter)
        say(f"SIGKILL to replica0 ({len(ledger.acked)} writes acknowledged)")
        replicas[0].kill()
        time.sleep(1)
        replicas[0].start()
        replicas[0].wait_ready()
        time.sleep(quarter)
        say(f"PostgreSQL stopped ({len(ledger.acked)} writes acknowledged)")
        pg.run("pause")
        time.sleep(0.5)
        away = [status_of(r.host, r.port, "/readyz") for r in replicas]
        time.sleep(1.5)
        pg.run("resume")
        say(f"PostgreSQL started again ({len(ledger.acked)} writes acknowledged)")
        time.sleep(quarter * 2)
        stop.set()
        for w in pool:
            w.join(timeout=180)
        if any(w.is_alive() for w in pool):
            fail("a writer did not finish its last write")
        if away != [503, 503]:
            ledger.problem(f"with PostgreSQL stopped, /readyz answered {away}, not 503")
    finally:
        for r in replicas:
            r.stop()
    for app in apps:
        check_history(ledger, app, service.ctl(store, "history", app, "--limit", "1000000"),
                      service.ctl(store, "list", app))
    checked = service.ctl(store, "verify")
    service.check_logs()
    if not ledger.answers[503]:
        ledger.problem("no write was answered 503 while PostgreSQL was stopped")
    if not ledger.answers["no answer"]:
        ledger.problem("no write lost its answer when replica0 was killed")
    for p in ledger.problems:
        say(p)
    if ledger.problems:
        fail(f"{len(ledger.problems)} problems")
    return {"acknowledged": len(ledger.acked), "after a lost answer": ledger.lost_answers,
            "answers": dict(ledger.answers), "versions verified": checked["versions"]}
