"""Accuracy of `envdoctor explain` over the log corpus in tests/data/logs.

Each log was written from error texts seen in a public report (expected.csv names it) and
carries the class and root-cause code a person would give it. A log counts as right when
both match. Run `python tests/explain/corpus_accuracy.py` to see every log; the test suite asserts
the accuracy (>= 90 %) and prints it at the end of the run.
"""
from __future__ import annotations

import csv
import os
import sys
from typing import List, NamedTuple, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(ROOT, "tests", "data", "logs")


class Result(NamedTuple):
    file: str
    want: Tuple[str, str]
    got: Tuple[str, str]

    @property
    def ok(self) -> bool:
        return self.want == self.got


def evaluate(directory: str = CORPUS) -> Tuple[List[Result], float]:
    from envdoctor.explain import explain_log

    results = []
    with open(os.path.join(directory, "expected.csv"), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            e = explain_log(os.path.join(directory, row["file"]))
            root = e.root.finding.code if e.root is not None else (
                e.surfaced[0].finding.code if e.surfaced else "none")
            results.append(Result(row["file"], (row["class"], row["code"]), (e.category or "none", root)))
    return results, sum(r.ok for r in results) / len(results)


def report(results: List[Result], accuracy: float, out=sys.stdout) -> None:
    for r in results:
        mark = "ok  " if r.ok else "MISS"
        line = f"{mark} {r.file:38} {r.want[0]}/{r.want[1]}"
        print(line if r.ok else f"{line}  got {r.got[0]}/{r.got[1]}", file=out)
    print(f"explain corpus accuracy: {sum(r.ok for r in results)}/{len(results)} = {accuracy:.1%}", file=out)


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    report(*evaluate())
