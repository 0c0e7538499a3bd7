"""Probes gather facts; they never judge or print. ALL_PROBES is the fixed render order, made
from the area registry (core/areas.py): one entry there adds a probe."""
from __future__ import annotations

from envdoctor.core.areas import Area
from envdoctor.probes.engine import Probe

ALL_PROBES = tuple(Probe(a.value, a.info.title, a.probe_function, a.timeout, a.info.needs) for a in Area)
