"""Newcomer defects N11, N28 and N29 (shared audit): real error lines, read as the newcomer's logs
read them. N12, N48 and N52 are covered in test_evidence.py."""
from __future__ import annotations

import os

from envdoctor.explain import explain_log, explain_text

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "data", "corpus", "logs")


def test_n11_a_build_that_needs_torch_in_the_metadata_step_is_build_isolation():
    # Two real lines (CPM-Live#244's pip build step, flash-attention#1920's error), in pip's order.
    e = explain_text("  Preparing metadata (setup.py) ... error\n"
                     "      ModuleNotFoundError: No module named 'torch'\n"
                     "error: metadata-generation-failed\n")
    assert e.root.finding.code == "build-needs-torch-no-isolation"
    assert any("--no-build-isolation" in f for f in e.root.finding.fix)


def test_n28_pip_skipping_versions_for_requires_python_points_at_that_line():
    # vllm-project/vllm#6497
    e = explain_text(
        "ERROR: Ignored the following versions that require a different python version: 1.6.2 "
        "Requires-Python >=3.7,<3.10; 1.6.3 Requires-Python >=3.7,<3.10\n"
        "ERROR: Could not find a version that satisfies the requirement xformers==0.0.23 (from versions: none)\n"
    )
    assert e.root.finding.code == "python-unsupported-by-vllm" and e.root.line.number == 1
    assert ">=3.7,<3.10" in e.root.finding.title


def test_n29_two_classic_wsl_gpu_failures_are_recognised():
    blocked = explain_log(os.path.join(CORPUS, "b-libre-kernel-gpu-blocked.log"))
    assert (blocked.category, blocked.root.finding.code) == ("wsl", "wsl-gpu-access-blocked")
    error500 = explain_log(os.path.join(CORPUS, "b-comfyui-docker-74-error-500.log"))
    assert error500.category == "wsl" and "Error 500" in error500.root.finding.title
    assert any("wsl --update" in f for f in error500.root.finding.fix)
