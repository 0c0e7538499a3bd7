"""Cluster rules on small hand-made nodes: each rule fires on the case it names, stays quiet on a
uniform cluster, and says which node and which field."""
from __future__ import annotations

from envdoctor.check.cluster import drift
from envdoctor.check.cluster.judge import ClusterReport, judge_cluster
from envdoctor.check.cluster.node import Node, NodeExtras, parse_p2p
from envdoctor.check.cluster.rules import Wish, judge
from envdoctor.compat.tables import Matrices
from envdoctor.core.facts import Distribution, DriverFacts, Gpu, PlatformFacts, PythonEnvFacts, TorchBuild
from envdoctor.core.results import Facts, ProbeResult, Report

NO_EXTRAS = NodeExtras()  # frozen: one shared default


def node(name, driver="580.65.06", torch="2.8.0+cu128", cuda="12.8", vllm="0.11.0", python="3.12.3",
         nccl="2.27.3", gpus=2, wsl=None, extras=NO_EXTRAS):
    dists = [Distribution("torch", torch)]
    if vllm:
        dists.append(Distribution("vllm", vllm, requires=("torch==2.8.0",)))
    if nccl:
        dists.append(Distribution("nvidia-nccl-cu12", nccl))
    results = {
        "platform": ProbeResult("platform", "ok", facts=PlatformFacts("Linux", "x86_64", wsl=wsl)),
        "driver": ProbeResult("driver", "ok", facts=DriverFacts("nvml", driver, gpus=tuple(
            Gpu(i, "NVIDIA H100 80GB HBM3", "9.0", 81559) for i in range(gpus)))),
        "python": ProbeResult("python", "ok", facts=PythonEnvFacts(
            "/venv/bin/python", "VIRTUAL_ENV", python, kind="venv", distributions=tuple(dists),
            torch=TorchBuild(torch, cuda))),
        "torch": ProbeResult("torch", "skipped"),
    }
    return Node(name, report=Report(Facts(results), ()), extras=extras)


def codes(findings):
    return [f.code for f in findings]


def test_a_uniform_cluster_has_no_cluster_findings():
    nodes = [node(f"n{i}") for i in range(4)]
    assert judge(nodes, Wish(tensor_parallel=4, pipeline_parallel=2)) == []


def test_drift_names_the_odd_node_and_the_field():
    nodes = [node("n0"), node("n1"), node("n2", torch="2.7.1+cu128"), node("n3")]
    [found] = judge(nodes, Wish())
    assert found.code == "node-version-drift" and found.severity == "error"
    [line] = found.evidence
    assert line.startswith("torch differs on n2 (") and "n2=2.7.1+cu128" in line


def test_drift_reads_every_field():
    nodes = [node("a"), node("b"), node("c", driver="570.86.15", cuda="12.6", vllm="0.10.0", python="3.11.9",
                                           nccl="2.21.5")]
    [found] = judge(nodes, Wish())
    fields = [e.split(" differs")[0] for e in found.evidence]
    assert fields == ["NVIDIA driver", "torch's CUDA build", "vLLM", "Python", "NCCL"]
    assert all(" on c (" in e for e in found.evidence)


def test_an_unknown_value_is_shown_not_counted_as_drift():
    unknown = Node("x", report=Report(Facts({}), ()))
    nodes = [node("a"), node("b"), unknown]
    assert drift.values(unknown.report.facts) == {k: None for k, _ in drift.FIELDS}
    assert judge(nodes, Wish()) == []


def test_odd_ones_on_a_tie_lists_everyone():
    assert drift.odd_ones([("a", "1"), ("b", "2")]) == ["a", "b"]
    assert drift.odd_ones([("a", "1"), ("b", "1"), ("c", None)]) == []


def test_too_few_gpus_for_tp_times_pp():
    nodes = [node("n0", gpus=2), node("n1", gpus=1)]
    assert judge(nodes, Wish(tensor_parallel=2, pipeline_parallel=1)) == []
    [found] = judge(nodes, Wish(tensor_parallel=2, pipeline_parallel=2))
    assert found.code == "cluster-gpus-insufficient"
    assert found.evidence[0] == "--tp 2 x --pp 2 needs 4 GPUs; the nodes that answered have 3"


def test_interfaces_without_ifname_warn_for_nccl_and_gloo():
    many = NodeExtras(interfaces=("eth0", "ib0"))
    nodes = [node("n0", extras=many), node("n1", extras=NodeExtras(interfaces=("eth0",)))]
    found = judge(nodes, Wish())
    assert codes(found) == ["nccl-interface-unset", "gloo-interface-unset"]
    assert found[0].evidence == ("n0: eth0, ib0",) and found[0].fix == ("export NCCL_SOCKET_IFNAME=eth0",)
    pinned = NodeExtras(interfaces=("eth0", "ib0"), nccl_socket_ifname="ib0", gloo_socket_ifname="ib0")
    assert judge([node("n0", extras=pinned), node("n1")], Wish()) == []


def test_interfaces_do_not_matter_on_one_node():
    assert judge([node("n0", extras=NodeExtras(interfaces=("eth0", "ib0")))], Wish()) == []


def test_p2p_blocked_pairs_and_several_gpus_under_wsl2():
    blocked = NodeExtras(p2p_blocked=("GPU0-GPU1: NS",))
    [found] = judge([node("n0", extras=blocked)], Wish())
    assert found.code == "gpu-p2p-unavailable" and "GPU0-GPU1: NS" in found.evidence[0]
    [found] = judge([node("laptop", gpus=2, wsl=2)], Wish())
    assert found.code == "gpu-p2p-unavailable" and "WSL 2" in found.evidence[0]
    assert judge([node("laptop", gpus=1, wsl=2)], Wish()) == []


def test_parse_p2p_reads_nvidia_smi_topo():
    text = ("        GPU0    GPU1    GPU2\n GPU0   X       OK      NS\n GPU1   OK      X       NS\n"
            " GPU2   NS      NS      X\n\nLegend:\n  X    = Self\n  OK   = Status Ok\n  NS   = Not supported\n")
    assert parse_p2p(text) == ("GPU0-GPU2: NS", "GPU1-GPU2: NS")
    assert parse_p2p("no table here") is None


def test_model_missing_on_one_node_and_unknown_on_another():
    nodes = [node("n0", extras=NodeExtras(model_cached=True)), node("n1", extras=NodeExtras(model_cached=False)),
             node("n2")]
    [found] = judge(nodes, Wish(model="Qwen/Qwen2-1.5B-Instruct"))
    assert found.code == "model-missing-on-node" and found.severity == "error"
    assert found.evidence == ("n1: Qwen/Qwen2-1.5B-Instruct is not in its Hugging Face cache",
                              "n2: could not tell whether Qwen/Qwen2-1.5B-Instruct is cached")
    assert judge(nodes, Wish()) == []


def test_an_unreachable_node_is_an_error_and_exit_3():
    nodes = [node("n0"), Node("n1", error="no answer within 5 s")]
    report = judge_cluster(nodes, Wish(), Matrices())
    assert codes(report.findings) == ["node-unreachable"]
    assert report.findings[0].evidence == ("n1: no answer within 5 s",)
    assert report.exit_code() == 3


def test_exit_code_follows_the_worst_finding():
    assert judge_cluster([node("n0"), node("n1")], Wish(), Matrices()).exit_code() == 0
    drifted = judge_cluster([node("n0"), node("n1", vllm="0.10.0"), node("n2")], Wish(), Matrices())
    assert drifted.exit_code() == 2


def test_single_machine_rules_run_on_each_node():
    # its vllm requires torch==2.8.0: a node with torch 2.9.0 gets check's own vllm-torch-mismatch
    report = judge_cluster([node("n0", torch="2.9.0+cu128")], Wish(), Matrices())
    [n0] = report.nodes
    assert "vllm-torch-mismatch" in codes(n0.report.findings)
    assert isinstance(report, ClusterReport)
