# Runs INSIDE the target interpreter (python -c): what identifies torch as installed,
# for the torch probe's cache, without importing torch (find_spec only locates it).
import glob
import hashlib
import importlib.util
import json
import os
import sys

if sys.path and sys.path[0] in ("", os.getcwd()):
    sys.path.pop(0)


def main():
    out = {"executable": os.path.realpath(sys.executable), "python": sys.version}
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.origin:
        print(json.dumps(out))
        return
    package = os.path.dirname(spec.origin)
    out["origin"] = package
    site = os.path.dirname(package)
    records = sorted(glob.glob(os.path.join(site, "torch-*.dist-info", "RECORD")))
    # RECORD lists every installed file with its hash: any reinstall or upgrade changes it
    for path in records[:1]:
        try:
            with open(path, "rb") as fh:
                out["files_sha256"] = hashlib.sha256(fh.read()).hexdigest()
            st = os.stat(path)
            out["files_stat"] = [path, st.st_size, st.st_mtime_ns]
        except OSError:
            out.pop("files_sha256", None)
    print(json.dumps(out))


main()
