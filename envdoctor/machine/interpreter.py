"""What `--python X` names, resolved once, the way a shell finds a program.

X with a slash is a path; a bare name is looked up on PATH only (as `shutil.which` does),
never in the current directory. A directory is an environment: DIR/bin/python. Only an
interpreter is run: a file named python, python3, python3.12 (pypy likewise), or a link to
one. Anything else (`--python passwd`) is refused before anything starts.
"""
from __future__ import annotations

import os
import re
import shutil
from typing import Mapping, Optional

_INTERPRETER = re.compile(r"(?:python|pypy)(?:\d+(?:\.\d+)*t?)?(?:\.exe)?", re.I)


class NotAnInterpreter(ValueError):
    """The one-line reason --python X cannot be used."""


def looks_like_python(path: str) -> bool:
    names = {os.path.basename(path), os.path.basename(os.path.realpath(path))}
    return any(_INTERPRETER.fullmatch(n) for n in names)


def resolve(value: str, env: Optional[Mapping[str, str]] = None) -> str:
    """The absolute path of the interpreter `value` names; NotAnInterpreter says why not."""
    env = os.environ if env is None else env
    if not value:
        raise NotAnInterpreter("is empty: pass a path to python, or a name on PATH")
    if "/" in value:
        path = os.path.expanduser(value)
    else:
        found = shutil.which(value, path=env.get("PATH", os.defpath))
        if found is None:
            raise NotAnInterpreter(f"{value} is not on PATH (a file in this directory is ./{value})")
        path = found
    if os.path.isdir(path):
        inside = next((os.path.join(path, "bin", n) for n in ("python", "python3")
                       if os.path.exists(os.path.join(path, "bin", n))), None)
        if inside is None:
            raise NotAnInterpreter(f"{value} is a directory without bin/python: pass the interpreter itself")
        path = inside
    if not os.path.exists(path):
        raise NotAnInterpreter(f"{value} does not exist")
    if not os.path.isfile(path):
        raise NotAnInterpreter(f"{value} is not a file")
    if not looks_like_python(path):
        raise NotAnInterpreter(f"{value} is not a Python interpreter (its name is not python, python3, "
                               "python3.X or a link to one)")
    if not os.access(path, os.X_OK):
        raise NotAnInterpreter(f"{value} is not executable")
    return os.path.abspath(path)
