"""`envdoctor fix --apply` end to end, through the real CLI, against package indexes on 127.0.0.1
serving small wheels built here (a stand-in torch, its CUDA library, vLLM and its companions).
The new environment is a real venv in a temporary directory; the tests' own environment and the
internet are never touched. A fake `nvidia-smi` stands in for the driver.

Run 1: the torch index publishes a wrong hash -> refused at the torch step, nothing of torch installed.
Run 2: the index is fixed and drops the connection half-way through torch -> resumes; the steps done
in run 1 are not repeated, nothing is downloaded twice.
Run 3: everything is already done and still checks out; nothing is fetched.
"""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest

from envdoctor.fix.apply.download import CHUNK
from envdoctor.cli import main

from .conftest import machine_dir
from .loopback_index import LoopbackIndex, make_wheel, metadata_text

PY = "%d.%d" % sys.version_info[:2]


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


@pytest.fixture()
def isolated(monkeypatch, tmp_path):
    """No pip configuration of this machine, a fake nvidia-smi, this interpreter's pythonX.Y on PATH."""
    for key in list(os.environ):
        if key.startswith("PIP_") or key in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")  # an index a plan forgot goes nowhere
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 531.41\n")
    smi.chmod(0o755)
    python = bin_dir / f"python{PY}"
    python.symlink_to(sys.executable)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.path.dirname(sys.executable)}:/usr/bin:/bin")
    return tmp_path


def seed_facts(tmp_path) -> str:
    """The seed machine's saved report, with this interpreter's Python in a venv."""
    with open(os.path.join(machine_dir("wsl2-rtx3050-laptop"), "report.json"), encoding="utf-8") as fh:
        doc = json.load(fh)
    doc["facts"]["python"].update(version=f"{PY}.0", kind="venv", prefix="/home/angel/venv", base_prefix="/usr")
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(doc))
    return str(path)


def pip_copy(directory: str) -> str:
    """This interpreter's own pip, as a wheel for the plan's pip step (>= 25.3: .ci/run upgrades it)."""
    import pip

    assert tuple(int(p) for p in pip.__version__.split(".")[:2]) >= (25, 3), \
        f"the tests' pip {pip.__version__} predates 25.3: `pip install -U pip` in the test environment"
    root = os.path.dirname(pip.__file__)
    files = {}
    for path in glob.glob(os.path.join(root, "**", "*"), recursive=True):
        if os.path.isfile(path) and "__pycache__" not in path:
            with open(path, "rb") as fh:
                files[os.path.relpath(path, os.path.dirname(root))] = fh.read()
    return make_wheel(directory, "pip", pip.__version__, files)


def build_indexes(srv: LoopbackIndex, stack: dict, tmp_path) -> dict:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    torch_v, cuda = stack["torch"], stack["cuda"]
    local = f"{torch_v}+{stack['cuda_tag']}"
    cudalib = make_wheel(str(wheels), "nvidia-fake-runtime-cu12", "12.1.105", {"nvidia_fake/__init__.py": ""},
                         padding=150_000)
    torch = make_wheel(str(wheels), "torch", local, {
        "torch/__init__.py": f"__version__ = '{local}'\nfrom . import cuda, version\n",
        "torch/version.py": f"cuda = '{cuda}'\n",
        "torch/cuda.py": "def is_available():\n    return True\n\ndef get_device_name(i):\n    return 'Fake GPU'\n",
    }, requires=["nvidia-fake-runtime-cu12==12.1.105"], padding=600_000)
    srv.index("torch").add("torch", torch)
    srv.index("torch").add("nvidia-fake-runtime-cu12", cudalib)
    pypi = srv.index("pypi")
    pypi.add("pip", pip_copy(str(wheels)))
    companions = [c.split("==") for c in stack["companions"]]
    for name, version in companions:
        mod = name.replace("-", "_")
        pypi.add(name, make_wheel(str(wheels), name, version, {f"{mod}/__init__.py": ""},
                                  requires=[f"torch=={torch_v}"]))
    requires = [f"torch=={torch_v}"] + [f"{n}=={v}" for n, v in companions]
    pypi.add("vllm", make_wheel(str(wheels), "vllm", stack["vllm"],
                                {"vllm/__init__.py": f"__version__ = '{stack['vllm']}'\nimport torch\n"},
                                metadata=metadata_text("vllm", stack["vllm"], requires)))
    return {"torch": os.path.basename(torch), "cudalib": os.path.basename(cudalib), "torch_size": os.path.getsize(torch),
            "cudalib_size": os.path.getsize(cudalib)}


def test_apply_refuses_a_wrong_hash_then_resumes_a_dropped_download(isolated, capsys):
    tmp = isolated
    facts = seed_facts(tmp)
    want = ["--vllm", "0.5.3"] if sys.version_info[:2] <= (3, 11) else []
    code, out, _ = run(capsys, "fix", "--format", "json", "--from-json", facts, "--python-version", PY, *want)
    assert code == 0, out
    stack = json.loads(out)["stack"]
    env, cache = str(tmp / "newenv"), str(tmp / "cache")
    with LoopbackIndex() as srv:
        names = build_indexes(srv, stack, tmp)
        args = ["fix", "--apply", "--yes", "--from-json", facts, "--python-version", PY, *want, "--env", env,
                "--cache-dir", cache, "--index-url", srv.simple_url("pypi"), "--torch-index-url", srv.simple_url("torch")]

        srv.wrong_hash.add(names["torch"])
        code, out, _ = run(capsys, *args)
        assert code == 2, out
        assert "stopped at step 'Install torch" in out and "SHA-256" in out and "[cause: the network]" in out
        site = glob.glob(os.path.join(env, "lib", "python*", "site-packages"))[0]
        assert not glob.glob(os.path.join(site, "torch*")), "a refused file must not be installed"
        assert not os.path.exists(os.path.join(cache, "wheelhouse", names["torch"]))
        first_pip = dict(srv.sent)

        srv.wrong_hash.clear()
        srv.drop_once.add(names["torch"])
        before = srv.sent.get(names["torch"], 0)
        code, out, _ = run(capsys, *args)
        assert code == 0, out
        assert "Create the environment" in out and "already done" in out
        torch_bytes = srv.sent[names["torch"]] - before
        # About one copy: the drop costs at most the chunk that was being read when it came.
        assert names["torch_size"] <= torch_bytes <= names["torch_size"] + CHUNK
        assert srv.sent[names["cudalib"]] <= names["cudalib_size"] + CHUNK  # never twice, over both runs
        pip_file = next(n for n in srv.sent if n.startswith("pip-"))
        assert srv.sent[pip_file] == first_pip[pip_file]  # the pip step was not repeated
        assert f"envdoctor run-smoke --python {env}/bin/python" in out

        done = subprocess.run([os.path.join(env, "bin", "python"), "-c",
                               "import vllm, torch; print(vllm.__version__, torch.__version__, torch.version.cuda)"],
                              capture_output=True, text=True, timeout=60)
        assert done.stdout.split() == [stack["vllm"], f"{stack['torch']}+{stack['cuda_tag']}", stack["cuda"]]
        with open(os.path.join(env, "envdoctor-constraints.txt")) as fh:
            assert fh.read() == f"torch=={stack['torch']}\n"

        sent = dict(srv.sent)
        code, out, _ = run(capsys, *args)
        assert code == 0 and out.count("already done") == 5
        assert srv.sent == sent  # nothing fetched


def test_apply_refuses_an_existing_directory_and_the_active_env(isolated, capsys):
    tmp = isolated
    facts = seed_facts(tmp)
    busy = tmp / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    for env in (str(busy), sys.prefix):
        code, out, err = run(capsys, "fix", "--apply", "--yes", "--from-json", facts, "--env", env,
                             "--cache-dir", str(tmp / "cache"))
        assert code == 4 and len(err.strip().splitlines()) == 1 and "new" in err, err
    assert os.listdir(busy) == ["keep.txt"] and not (tmp / "cache" / "apply").exists()


def test_apply_dry_run_changes_nothing(isolated, capsys):
    tmp = isolated
    env = tmp / "newenv"
    code, out, _ = run(capsys, "fix", "--apply", "--dry-run", "--from-json", seed_facts(tmp), "--env", str(env),
                       "--cache-dir", str(tmp / "cache"))
    assert code == 0 and out.count("would run") == 5 and "nothing was changed" in out
    assert not env.exists() and not (tmp / "cache").exists()


def test_a_failed_pip_step_is_classified_by_explains_signatures():
    """fix --apply reads pip's output with the signatures `envdoctor explain` uses (here a real
    pip log from the corpus's dev split: a hash mismatch of a torch download)."""
    from envdoctor.core.codes import catalogue
    from envdoctor.core.reasons import FailureKind
    from envdoctor.fix.apply.wheelhouse import failure
    from envdoctor.machine.runner import CommandResult

    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "data", "corpus", "logs", "a-ootd-torch201-hash-mismatch.log"), encoding="utf-8") as fh:
        text = fh.read()
    err = failure("pip could not install", CommandResult(("pip",), "ok", 1, "", text))
    assert err.kind is FailureKind.NETWORK and err.cause.code == "download-corrupted"
    other = failure("pip could not install", CommandResult(("pip",), "ok", 1, "",
                                                          "ERROR: No matching distribution found for vllm==9.9.9"))
    assert other.kind is FailureKind.ENVIRONMENT
    assert other.cause is None or other.cause.code in catalogue()
