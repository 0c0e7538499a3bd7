# Runs INSIDE the target interpreter (python -c) after the environment probe saw torch.
# It imports torch (the slow part) and asks CUDA the questions only a live process can
# answer: does it initialise, which archs were compiled in, does a kernel launch.
import json
import os
import sys
import warnings

if sys.path and sys.path[0] in ("", os.getcwd()):
    sys.path.pop(0)


def main():
    out = {"warnings": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            import torch
        except Exception as exc:  # a broken install: say what import said
            out["import_error"] = "%s: %s" % (type(exc).__name__, exc)
            print(json.dumps(out))
            return
        out["version"] = str(torch.__version__)
        out["cuda"] = torch.version.cuda
        try:
            out["cuda_available"] = bool(torch.cuda.is_available())
        except Exception as exc:
            out["cuda_available"] = False
            out["error"] = "%s: %s" % (type(exc).__name__, exc)
        try:
            out["arch_list"] = list(torch.cuda.get_arch_list())
        except Exception:
            out["arch_list"] = []
        if out["cuda_available"]:
            out["device_count"] = torch.cuda.device_count()
            out["devices"] = []
            for i in range(out["device_count"]):
                cap = torch.cuda.get_device_capability(i)
                out["devices"].append({"index": i, "name": torch.cuda.get_device_name(i),
                                       "capability": "%d.%d" % cap})
            try:  # a real kernel launch: "no kernel image is available" only shows here
                x = torch.ones(4, device="cuda")
                float((x + 1).sum().item())
            except Exception as exc:
                out["error"] = "%s: %s" % (type(exc).__name__, exc)
        elif torch.version.cuda and "error" not in out:
            try:  # is_available() hides the reason; init() raises it
                torch.cuda.init()
            except Exception as exc:
                out["error"] = "%s: %s" % (type(exc).__name__, exc)
    out["warnings"] = [str(w.message) for w in caught][:20]
    print(json.dumps(out))


main()
