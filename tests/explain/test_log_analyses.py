"""What the numbers and settings in a log say about its error (real logs of the corpus's dev
split): an out-of-memory error whose numbers show another process holding the GPU is
gpu-memory-in-use, not a model too large; a docker daemon timing out after the shell exported a
proxy is the daemon not using that proxy."""
from __future__ import annotations

import os

import pytest

from envdoctor.explain import explain_log

CORPUS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "corpus", "logs")


def root(name):
    return explain_log(os.path.join(CORPUS, name)).root


def test_memory_held_elsewhere_is_named_with_its_size():
    r = root("a-vllm-opt125m-oom-shared-gpu.log")  # 44.56 GiB total, 565 MiB free, 27.93 GiB reserved here
    assert r.finding.code == "gpu-memory-in-use" and r.category == "resources"
    assert "16.1 GiB of its 44.6 GiB" in r.finding.title
    assert r.finding.fix[0] == "nvidia-smi"


@pytest.mark.parametrize("name", ["b-oneclick-15-oom-6gb.log",  # 6 GiB total, 5.35 reserved, 0 free
                                  "b-a1111-15020-oom-2gb.log"])  # 2 GiB total, 1.72 reserved, 0 free
def test_a_gpu_this_process_fills_stays_out_of_memory(name):
    assert root(name).finding.code == "cuda-out-of-memory"


def test_a_daemon_timeout_after_the_shell_exports_a_proxy_is_the_daemon_ignoring_it():
    r = root("b-moby-22635-login-behind-proxy.log")  # export http(s)_proxy=..., then docker login times out
    assert r.finding.code == "proxy-env-mismatch" and r.category == "network"
    assert "docker.service.d" in " ".join(r.finding.fix)
    assert not any("password" in e for e in r.finding.evidence)  # the proxy's value is never repeated


def test_a_daemon_timeout_without_a_shell_proxy_stays_registry_unreachable():
    assert root("b-bitrixdock-138-registry-dns.log").finding.code == "registry-unreachable"
