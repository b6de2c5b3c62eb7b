"""The fault runs of scripts/bad-day: each starts what it needs, breaks
something on purpose and checks what the service did (TESTING.md)."""
