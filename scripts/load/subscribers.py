"""Memory per event-stream subscriber: valuesd's RSS with 0, 250, 1,000
and 2,000 streams open on one App, then after one change reaches them all.

    python3 scripts/load/subscribers.py PORT TOKEN PID    # scripts/subscriber-memory runs it
"""
import socket, sys, time, subprocess, os, json, urllib.request
port = int(sys.argv[1]); token = sys.argv[2]; pid = int(sys.argv[3])
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])  # KiB
def api(method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    return urllib.request.urlopen(req).read()
api("POST", "/orgs/ci/apps", {"id": "shop", "name": "Shop"})
api("POST", "/orgs/ci/apps/shop/values", {"key": "K", "value": "v", "description": ""})
time.sleep(1)
socks = []
results = [(0, rss())]
for target in (250, 1000, 2000):
    while len(socks) < target:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(f"GET /orgs/ci/apps/shop/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        socks.append(s)
    # every stream answered
    for s in socks[-(target - results[-1][0]):]:
        s.settimeout(10)
        data = s.recv(4096)
        assert b" 200 " in data.split(b"\r\n")[0], data[:100]
    time.sleep(2)
    results.append((target, rss()))
# a change reaches them all
api("PUT", "/orgs/ci/apps/shop/values/K", {"value": "w", "description": ""})
time.sleep(2)
got = 0
for s in socks:
    s.settimeout(5)
    if b"event: version" in s.recv(65536): got += 1
results.append(("after one change", rss()))
print(json.dumps({"rss_kib": results, "streams_that_got_the_change": got}))
