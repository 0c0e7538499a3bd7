"""The areas `check` probes, in render order, and how long a check may take: known to the CLI
before any probe is imported (probes/__init__.py holds the probes themselves)."""

AREAS = ("platform", "wsl", "driver", "cuda", "python", "torch", "resources", "model", "network")
DEFAULT_DEADLINE = 8.0  # seconds for the whole check
