"""A change feed under many subscribers: each holds one connection open
(valuesd's event stream, etcd's watch through its gateway); a write is
made, and the time from just before the write to each subscriber seeing it
is recorded. The figure per write is its slowest subscriber's time.

One asyncio loop reads every subscriber, so its own time to go round them
is in the figures; it is the same client for every system."""

import asyncio
import time

from . import common


async def body_chunks(reader, chunked):
    """The response body as it arrives, de-chunked."""
    while True:
        if chunked:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return
            data = await reader.readexactly(size)
            await reader.readexactly(2)
        else:
            data = await reader.read(65536)
            if not data:
                return
        yield data


def is_event(framing, message):
    """Whether one framed message is a change (not a heartbeat, not etcd's
    `created` answer)."""
    if framing == "sse":
        return any(line.startswith(b"data:") for line in message.split(b"\n"))
    return b'"events"' in message


async def subscriber(port, request, framing, connected, arrivals):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split()[1])
    if status != 200:
        common.fail(f"a subscriber was answered {status}")
    connected.append(1)
    separator = b"\n\n" if framing == "sse" else b"\n"
    buffered = b""
    async for data in body_chunks(reader, b"transfer-encoding: chunked" in head.lower()):
        buffered += data.replace(b"\r\n", b"\n")
        *messages, buffered = buffered.split(separator)
        now = time.monotonic()
        arrivals.extend(now for m in messages if is_event(framing, m))
    writer.close()


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def measure(system, subscribers, writes, timeout=30.0):
    request, framing = system.subscribe()
    connected, arrivals = [], [[] for _ in range(subscribers)]
    tasks = []
    for start in range(0, subscribers, 100):
        for i in range(start, min(start + 100, subscribers)):
            tasks.append(asyncio.create_task(
                subscriber(system.port, request, framing, connected, arrivals[i])))
        while len(connected) < len(tasks):
            await asyncio.sleep(0.01)
            failed = [t for t in tasks if t.done()]
            if failed:
                failed[0].result()
                common.fail(f"{system.name}: a subscriber's stream ended")
    await asyncio.sleep(0.5)
    loop = asyncio.get_running_loop()
    last = []
    for n in range(writes):
        before = time.monotonic()
        await loop.run_in_executor(None, system.feed_write, n)
        deadline = before + timeout
        while min(len(a) for a in arrivals) <= n:
            if time.monotonic() > deadline:
                seen = sum(len(a) > n for a in arrivals)
                common.fail(f"{system.name}: {seen} of {subscribers} subscribers saw write {n}")
            await asyncio.sleep(0.001)
        last.append(max(a[n] for a in arrivals) - before)
        await asyncio.sleep(0.05)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return percentile(last, 50) * 1000, percentile(last, 99) * 1000


def run(system, subscribers, writes):
    """p50 and p99, over the writes, of the time to the last subscriber (ms)."""
    return asyncio.run(measure(system, subscribers, writes))
