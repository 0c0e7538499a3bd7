"""Which package index does this user's pip use? Read at run time, never written down here.

Order, as pip itself resolves `index-url` (pip/_internal/configuration.py): the config files
global (XDG_CONFIG_DIRS/pip/pip.conf, /etc/pip.conf), user (~/.pip/pip.conf, then
XDG_CONFIG_HOME/pip/pip.conf; skipped when PIP_CONFIG_FILE names an existing file), site
($VIRTUAL_ENV/pip.conf), then PIP_CONFIG_FILE, later files overriding earlier ones and
[install] overriding [global]; the PIP_INDEX_URL variable over all files; and when nothing
is set, pip's own default (pip._internal.models.index.PyPI).
"""
from __future__ import annotations

import configparser
import os
from typing import List, Mapping, Optional, Tuple


SYSTEM_FILES = ("/etc/pip.conf",)


class NoIndex(Exception):
    """No index URL could be found; the message says what to pass."""


def config_files(env: Mapping[str, str]) -> List[str]:
    env_file = env.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:  # pip: "Skipping loading configuration files"
        return []
    home = env.get("HOME", os.path.expanduser("~"))
    xdg_dirs = [d for d in env.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep) if d]
    xdg_home = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    files = [os.path.join(d, "pip", "pip.conf") for d in xdg_dirs] + list(SYSTEM_FILES)
    if not (env_file and os.path.exists(env_file)):
        files += [os.path.join(home, ".pip", "pip.conf"), os.path.join(xdg_home, "pip", "pip.conf")]
    if env.get("VIRTUAL_ENV"):
        files.append(os.path.join(env["VIRTUAL_ENV"], "pip.conf"))
    if env_file:
        files.append(env_file)
    return files


def _from_file(path: str) -> Optional[str]:
    parser = configparser.RawConfigParser()
    try:
        with open(path, encoding="utf-8") as fh:
            parser.read_file(fh)
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    for section in ("install", "global"):
        for key in ("index-url", "index_url"):
            if parser.has_option(section, key):
                value = parser.get(section, key).strip()
                if value:
                    return value
    return None


def pip_default() -> Optional[str]:
    """pip's built-in default index, from the pip installed next to envdoctor."""
    try:
        from pip._internal.models.index import PyPI  # pip's own constant; no network
    except Exception:  # noqa: BLE001 - pip missing or its internals moved
        return None
    return PyPI.simple_url


def resolve(env: Mapping[str, str], explicit: Optional[str] = None) -> Tuple[str, str]:
    """(index URL, where it came from)."""
    if explicit:
        return explicit, "--index-url"
    if env.get("PIP_INDEX_URL"):
        return env["PIP_INDEX_URL"].split()[0], "PIP_INDEX_URL"
    found = None
    for path in config_files(env):
        value = _from_file(path)
        if value:
            found = (value, path)
    if found:
        return found
    default = pip_default()
    if default:
        return default, "pip's default"
    raise NoIndex("no package index is configured and pip's default could not be read: pass --index-url URL")
