"""Fixtures for every test: envdoctor's resolver knows no real host name (no_internet,
autouse), and `netrun` runs the network probe on a temporary machine (tests/netkit.py)."""
from netkit import netrun, no_internet  # noqa: F401 - fixtures, found by pytest by name
