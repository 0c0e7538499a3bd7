"""Which package index does this user's pip use? Read at run time, never written down here.

The same reader as the network probe (probes/net_config.pip_settings), so both answer as pip
does: PIP_INDEX_URL over [install] over [global], each section from the last file that sets
it. The site file is the active environment's ($VIRTUAL_ENV/pip.conf), whose pip runs. When
nothing is set, pip's own default (pip._internal.models.index.PyPI).
"""
from __future__ import annotations

import platform
from typing import Mapping, Optional, Tuple

from envdoctor.core.errors import UsageError
from envdoctor.machine.fs import RootedFS


class NoIndex(UsageError):
    """No index URL could be found; the message says what to pass."""


def pip_default() -> Optional[str]:
    """pip's built-in default index, from the pip installed next to envdoctor."""
    try:
        from pip._internal.models.index import PyPI  # pip's own constant; no network
    except Exception:  # noqa: BLE001 - pip missing or its internals moved
        return None
    return PyPI.simple_url


def resolve(env: Mapping[str, str], explicit: Optional[str] = None,
            fs: Optional[RootedFS] = None) -> Tuple[str, str]:
    """(index URL, where it came from: --index-url, PIP_INDEX_URL, a file's section, pip's default)."""
    if explicit:
        return explicit, "--index-url"
    from envdoctor.probes.net_config import pip_settings

    settings = pip_settings(env, platform.system(), fs or RootedFS("/"), env.get("VIRTUAL_ENV"))
    if settings.problems:  # pip itself stops on such a file: its index is not known
        problem = settings.problems[0]
        raise NoIndex(f"pip cannot read {problem.where} ({problem.message}): fix it or pass --index-url URL")
    urls = settings.urls("index-url")
    if urls:
        return urls[0].value, urls[0].source
    default = pip_default()
    if default:
        return default, "pip's default"
    raise NoIndex("no package index is configured and pip's default could not be read: pass --index-url URL")
