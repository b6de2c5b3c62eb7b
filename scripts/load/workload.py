"""The same data and work for every system: configurations of 100 and
1,000 keys, a deployment of 50 variables (10 of them secrets), writes of
one value, and a large store."""

SIZES = (100, 1000)
SECRETS = 10          # the first keys of the 1,000-key configuration
OVERRIDES = 0.1       # the share of an Environment's keys it overrides
VARIABLES = 50
WRITE_KEYS = 16
WRITES_PER_THREAD = 1024


def key(i):
    return f"k{i:04}"


def app_value(i):
    if i < SECRETS:
        return f"secret-{i}-" + "s" * 24
    return f"value-{i}-" + "v" * 30


def env_value(i):
    return f"prod-{i}-" + "p" * 30


def overridden(size, i):
    """Whether the Environment overrides key i (never a secret)."""
    return i >= SECRETS and i < SECRETS + int(size * OVERRIDES)


def config(size):
    """The Environment's effective configuration: what every system serves."""
    return {key(i): env_value(i) if overridden(size, i) else app_value(i) for i in range(size)}


def deployment():
    """The workload's variables as placeholders of the 1,000-key
    configuration: 40 plain values, some overridden, and the 10 secrets."""
    variables = {f"V{i}": f"${{values.{key(i * 7 % 1000)}}}" for i in range(SECRETS, VARIABLES)}
    variables.update({f"S{i}": f"${{values.{key(i)}}}" for i in range(SECRETS)})
    return variables


def resolved_deployment():
    """What a deployment reads: each variable's value."""
    values = config(1000)
    return {name: values[ref[len("${values."):-1]] for name, ref in deployment().items()}


def write_values(thread):
    """The values one load thread writes in turn: (key index, value), each
    differing from the key's value before it."""
    return [(n % WRITE_KEYS, f"w-{thread}-{n:06}-" + "x" * 24)
            for n in range(WRITES_PER_THREAD)]


def big_store(size):
    """The large store's keys and values (the memory figure)."""
    return {f"b{i:05}": f"big-{i}-" + "b" * 32 for i in range(size)}
