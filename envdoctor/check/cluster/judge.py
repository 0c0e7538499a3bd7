"""A cluster's verdict: every node's own findings (the single-machine rules on its Facts) and the
cluster rules across them; the exit code as for `check`."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import List, Sequence, Tuple

from envdoctor.check.cluster.node import Node
from envdoctor.check.cluster.rules import Wish, judge
from envdoctor.core.exitcodes import EXIT_CANNOT_CHECK, EXIT_ERROR, EXIT_OK, EXIT_WARN
from envdoctor.core.results import Finding, Report

PER_NODE_SKIPPED = ("model",)  # sized for one machine; the cluster rules say where the model is


@dataclass(frozen=True)
class ClusterReport:
    nodes: Tuple[Node, ...]
    findings: Tuple[Finding, ...]  # the cluster's own

    def all_findings(self) -> List[Finding]:
        return list(self.findings) + [f for n in self.nodes if n.report for f in n.report.findings]

    def exit_code(self) -> int:
        if any(n.report is None for n in self.nodes):  # as check's deadline: some facts could not be read
            return EXIT_CANNOT_CHECK
        severities = {f.severity for f in self.all_findings()}
        if "error" in severities:
            return EXIT_ERROR
        return EXIT_WARN if "warn" in severities else EXIT_OK


def node_findings(node: Node, matrices) -> Node:
    """The same rules `check` runs, on the areas this node reported."""
    if node.report is None:
        return node
    from envdoctor.check.run import evaluate
    from envdoctor.rules import ALL_RULES

    facts = node.report.facts
    areas = set(facts.results) - set(PER_NODE_SKIPPED)
    rules = [r for r in ALL_RULES if r.area in areas or r.area == "envdoctor"]
    findings, crashes = evaluate(facts, matrices, rules)
    return replace(node, report=Report(facts, tuple(findings), node.report.deadline_hit, node.report.seconds,
                                       tuple(crashes)))


def judge_cluster(nodes: Sequence[Node], wish: Wish, matrices) -> ClusterReport:
    judged = tuple(node_findings(n, matrices) for n in nodes)
    return ClusterReport(judged, tuple(judge(judged, wish)))
