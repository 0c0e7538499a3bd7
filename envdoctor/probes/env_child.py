# Runs INSIDE the target interpreter (python -c), which may be any Python 3: keep this
# file free of f-strings, walrus and envdoctor imports. It imports nothing heavy: versions
# come from package metadata, torch's CUDA build from torch/version.py read as text.
import json
import os
import platform
import sys

if sys.path and sys.path[0] in ("", os.getcwd()):
    sys.path.pop(0)  # never read packages from the directory envdoctor was started in


def marker_env():
    def fmt(info):
        version = "%d.%d.%d" % (info.major, info.minor, info.micro)
        if info.releaselevel != "final":
            version += info.releaselevel[0] + str(info.serial)
        return version

    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": fmt(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def read_text(path, limit=65536):
    try:
        with open(path, "rb") as fh:
            return fh.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


HEADERS = ("Name", "Version", "Requires-Python")


def read_headers(path):
    """The metadata headers we need, read up to the blank line that ends them. Much faster
    than importlib.metadata's email parser, which matters with hundreds of packages."""
    values, requires = {}, []
    try:
        with open(path, "rb") as fh:
            for raw in fh:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if not line.strip():
                    break
                key, sep, value = line.partition(":")
                if not sep or line[0] in " \t":
                    continue
                value = value.strip()
                if key == "Requires-Dist":
                    if "extra" not in value.partition(";")[2]:  # extras are never installed implicitly
                        requires.append(value)
                elif key in HEADERS and key not in values:
                    values[key] = value
    except OSError:
        return None
    return values, requires


def egg_requires(path):
    """requires.txt of an .egg-info: [extra] sections are skipped, [:marker] kept."""
    out, marker, skip = [], None, False
    for line in (read_text(path) or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            extra, _, marker = section.partition(":")
            skip = bool(extra)
            marker = marker or None
            continue
        if not skip:
            out.append(line + ("; " + marker if marker else ""))
    return out


def list_distributions():
    """[name, version, requires, requires_python] for every distribution on sys.path, in
    sys.path order (the first of a name is the one Python imports)."""
    dists = []
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                got = read_headers(os.path.join(entry, name, "METADATA"))
                if got is None:
                    continue
                values, requires = got
            elif name.endswith(".egg-info"):
                base = os.path.join(entry, name)
                got = read_headers(os.path.join(base, "PKG-INFO") if os.path.isdir(base) else base)
                if got is None:
                    continue
                values = got[0]
                requires = egg_requires(os.path.join(base, "requires.txt")) if os.path.isdir(base) else []
            else:
                continue
            if values.get("Name"):
                dists.append([values["Name"], values.get("Version", ""), requires,
                              values.get("Requires-Python")])
    return dists


def main():
    out = {
        "version": platform.python_version(),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "conda": os.path.isdir(os.path.join(sys.prefix, "conda-meta")),
        "marker_env": marker_env(),
        "dists": list_distributions(),
        "torch_version_py": None,
    }
    try:
        import sysconfig
        stdlib = sysconfig.get_paths().get("stdlib") or ""
        out["externally_managed"] = os.path.isfile(os.path.join(stdlib, "EXTERNALLY-MANAGED"))
    except Exception:
        out["externally_managed"] = False
    for entry in sys.path:
        candidate = os.path.join(entry or ".", "torch", "version.py")
        if os.path.isfile(candidate):
            out["torch_version_py"] = read_text(candidate)
            break
    print(json.dumps(out))


main()
