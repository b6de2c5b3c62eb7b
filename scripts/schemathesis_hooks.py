"""schemathesis hooks for scripts/schemathesis-run: a change the service
refuses (any 4xx), and any dry run, must leave the store as it was.

Before each write, what it could touch is read through the API (the Apps,
and for a request naming an App: its Environments, values and version ids,
and the Environment's too when it names one); after a refused write or a
dry run it is read again and must be the same."""

import json
import os
import urllib.error
import urllib.parse
import urllib.request

import schemathesis

BASE = os.environ["VALUESD_URL"]
TOKEN = os.environ["VALUESD_TOKEN"]
ORG = "ci"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# What each write saw before it, by the case's identity.
BEFORE = {}


def get(path):
    request = urllib.request.Request(BASE + path, headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return e.code


def ids(listed):
    return [v["id"] for v in listed] if isinstance(listed, list) else listed


def state(case):
    """What a write to the case's path could change, read through the API."""
    params = case.path_parameters or {}
    seen = {"apps": get(f"/orgs/{ORG}/apps")}
    app = params.get("appId")
    if isinstance(app, str) and app:
        base = f"/orgs/{ORG}/apps/{urllib.parse.quote(app, safe='')}"
        seen["envs"] = get(f"{base}/envs")
        seen["values"] = get(f"{base}/values")
        seen["versions"] = ids(get(f"{base}/value-set-versions"))
        env = params.get("envId")
        if isinstance(env, str) and env:
            level = f"{base}/envs/{urllib.parse.quote(env, safe='')}"
            seen["env values"] = get(f"{level}/values")
            seen["env versions"] = ids(get(f"{level}/value-set-versions"))
    return seen


def dry_run(case):
    query = case.query or {}
    return str(query.get("dry_run", "")).lower() == "true"


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() in WRITES:
        BEFORE[id(case)] = state(case)


@schemathesis.check
def refused_changes_leave_nothing(ctx, response, case):
    if case.method.upper() not in WRITES:
        return None
    before = BEFORE.pop(id(case), None)
    refused = 400 <= response.status_code < 500
    if before is None or not (refused or dry_run(case)):
        return None
    after = state(case)
    if after != before:
        changed = sorted(k for k in after if after.get(k) != before.get(k))
        raise AssertionError(
            f"{case.method} {case.path} answered {response.status_code}"
            f"{' (a dry run)' if dry_run(case) else ''} but changed {', '.join(changed)}")
    return None
