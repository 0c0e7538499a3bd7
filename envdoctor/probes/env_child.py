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


def main():
    out = {
        "version": platform.python_version(),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "conda": os.path.isdir(os.path.join(sys.prefix, "conda-meta")),
        "marker_env": marker_env(),
        "dists": [],
        "torch_version_py": None,
    }
    try:
        import sysconfig
        stdlib = sysconfig.get_paths().get("stdlib") or ""
        out["externally_managed"] = os.path.isfile(os.path.join(stdlib, "EXTERNALLY-MANAGED"))
    except Exception:
        out["externally_managed"] = False
    try:
        from importlib import metadata
    except ImportError:
        out["error"] = "Python %s is too old to list packages (needs 3.8+)" % out["version"]
        print(json.dumps(out))
        return
    for dist in metadata.distributions():
        try:
            meta = dist.metadata
            name = meta["Name"]
            if not name:
                continue
            out["dists"].append([name, meta["Version"] or "", meta.get_all("Requires-Dist") or [],
                                 meta["Requires-Python"]])
        except Exception:
            continue  # a broken .dist-info must not hide the others
    for entry in sys.path:
        candidate = os.path.join(entry or ".", "torch", "version.py")
        if os.path.isfile(candidate):
            out["torch_version_py"] = read_text(candidate)
            break
    print(json.dumps(out))


main()
