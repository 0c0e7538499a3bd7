"""Score `envdoctor explain` and `check --from-report` on the real corpus in tests/data/corpus.

The logs and reports were copied from public threads by people who did not write the
signatures; each index row names the thread, the class and root-cause code the thread's
conclusion supports, and a confidence. The corpus is split BY THREAD (a hash of the source
URL without its #fragment): about 60 % is the dev split that signatures are tuned on, the
rest is the frozen split, scored only when a change is finished. This script names the
files it gets wrong only for the dev split; for the frozen split it prints figures alone.

    python tests/explain/corpus_score.py [--split dev|frozen|all] [--misses]
"""
from __future__ import annotations

import argparse
import collections
import csv
import glob
import hashlib
import os
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(ROOT, "tests", "data", "corpus")
CLASSES = ("network", "environment", "build", "docker", "wsl", "resources", "other")
FROZEN_SHARE = 40  # percent of the hash space that is frozen (>= a third of the threads)
SPLITS = ("dev", "frozen")


def thread(url: str) -> str:
    """The thread a URL points into: no fragment (#issuecomment-...), no query, no trailing slash."""
    parts = urlsplit(url.strip())
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}"


def split_of(url: str) -> str:
    digest = hashlib.sha256(thread(url).encode("utf-8")).hexdigest()
    return "frozen" if int(digest[:8], 16) % 100 < FROZEN_SHARE else "dev"


@dataclass(frozen=True)
class LogCase:
    file: str  # relative to tests/data/corpus
    url: str
    cls: str
    code: str
    confidence: str

    @property
    def split(self) -> str:
        return split_of(self.url)


@dataclass(frozen=True)
class ReportCase:
    file: str
    url: str
    code: str
    confidence: str
    visible: bool = True  # False: the thread names the root cause, the report itself does not show it


    @property
    def split(self) -> str:
        return split_of(self.url)


def _rows(pattern: str) -> List[Dict[str, str]]:
    rows = []
    for index in sorted(glob.glob(os.path.join(CORPUS, pattern))):
        with open(index, encoding="utf-8", newline="") as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def _path(kind: str, name: str) -> str:
    return name if "/" in name else f"{kind}/{name}"


def log_cases() -> List[LogCase]:
    return [LogCase(_path("logs", r["file"]), r["source_url"], r["class"].strip(), r["code"].strip(),
                    r["confidence"].strip()) for r in _rows("logs-*.csv")]


# A report whose notes begin with this is kept (its label is the thread's), but scored apart: the
# report holds no fact or line that shows its root cause, so no reading of the report can find it.
NOT_VISIBLE = "visible=no"


def report_cases() -> List[ReportCase]:
    return [ReportCase(_path("reports", r["file"]), r["source_url"], r["root_cause_code"].strip(),
                       r["confidence"].strip(), not r.get("notes", "").startswith(NOT_VISIBLE))
            for r in _rows("reports*.csv")]


@dataclass(frozen=True)
class LogResult:
    case: LogCase
    cls: str
    code: str
    confidence: str  # how explain reached it: signature | evidence | none

    @property
    def class_ok(self) -> bool:
        return self.cls == self.case.cls

    @property
    def code_ok(self) -> bool:
        return self.code == self.case.code


def explain_case(case: LogCase) -> LogResult:
    from envdoctor.explain import explain_log

    e = explain_log(os.path.join(CORPUS, case.file))
    lead = e.root or (e.surfaced[0] if e.surfaced else (e.diagnoses[0] if e.diagnoses else None))
    return LogResult(case, e.category or "none", lead.finding.code if lead else "none",
                     lead.confidence if lead else "none")


def report_codes(case: ReportCase) -> Tuple[str, ...]:
    from envdoctor.report.collect_env import ReportError, check_report

    try:
        report, _ = check_report(os.path.join(CORPUS, case.file))
    except ReportError:
        return ()
    return tuple(f.code for f in report.findings)


@dataclass
class LogScore:
    n: int
    class_right: int
    strong: int  # high + medium confidence logs
    code_right: int  # of those
    per_class: Dict[str, Tuple[int, int]]  # class -> (right, n)
    confusion: Dict[Tuple[str, str], int]  # (wanted, got) -> count

    @property
    def class_accuracy(self) -> float:
        return self.class_right / self.n if self.n else 0.0

    @property
    def code_accuracy(self) -> float:
        return self.code_right / self.strong if self.strong else 0.0


def score_logs(results: Sequence[LogResult]) -> LogScore:
    per: Dict[str, List[int]] = collections.defaultdict(lambda: [0, 0])
    confusion: Dict[Tuple[str, str], int] = collections.Counter()
    strong = [r for r in results if r.case.confidence in ("high", "medium")]
    for r in results:
        per[r.case.cls][0] += r.class_ok
        per[r.case.cls][1] += 1
        confusion[(r.case.cls, r.cls)] += 1
    return LogScore(len(results), sum(r.class_ok for r in results), len(strong), sum(r.code_ok for r in strong),
                    {k: (v[0], v[1]) for k, v in per.items()}, dict(confusion))


def evaluate_logs(split: Optional[str] = None) -> List[LogResult]:
    return [explain_case(c) for c in log_cases() if split is None or c.split == split]


def evaluate_reports(split: Optional[str] = None) -> List[Tuple[ReportCase, Tuple[str, ...]]]:
    return [(c, report_codes(c)) for c in report_cases() if split is None or c.split == split]


def print_logs(name: str, s: LogScore, out=sys.stdout) -> None:
    print(f"[{name}] logs: {s.n}; class accuracy {s.class_right}/{s.n} = {s.class_accuracy:.1%}; "
          f"code accuracy (high+medium) {s.code_right}/{s.strong} = {s.code_accuracy:.1%}", file=out)
    for cls in CLASSES:
        right, n = s.per_class.get(cls, (0, 0))
        if n:
            print(f"    {cls:12} {right:3}/{n:<3} {right / n:6.1%}", file=out)
    got = list(CLASSES) + ["none"]
    print("    confusion (rows: labelled, columns: explained)", file=out)
    print("    " + " " * 12 + "".join(f"{g[:5]:>6}" for g in got), file=out)
    for want in CLASSES:
        if s.per_class.get(want):
            print(f"    {want:12}" + "".join(f"{s.confusion.get((want, g), 0) or '.':>6}" for g in got), file=out)


def print_reports(name: str, results, out=sys.stdout) -> Tuple[float, float]:
    """The share of the reports that show their root cause for which it is among the findings: of
    all of them, and of those whose label is high- or medium-confidence (a low one is the
    collector's own reading of the report, as for the logs' code accuracy)."""
    shown = [(case, codes) for case, codes in results if case.visible]
    hits = sum(1 for case, codes in shown if case.code in codes)
    share = hits / len(shown) if shown else 0.0
    strong = [(case, codes) for case, codes in shown if case.confidence in ("high", "medium")]
    strong_hits = sum(1 for case, codes in strong if case.code in codes)
    print(f"[{name}] reports: root cause among the findings for {hits}/{len(shown)} = {share:.1%} "
          f"(high+medium labels: {strong_hits}/{len(strong)})", file=out)
    hidden = [(case, codes) for case, codes in results if not case.visible]
    if hidden:
        found = sum(1 for case, codes in hidden if case.code in codes)
        print(f"    and {len(hidden)} whose report does not show the root cause (visible=no): found for {found}",
              file=out)
    return share, (strong_hits / len(strong) if strong else 0.0)


def main(argv: Sequence[str] = ()) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", choices=SPLITS + ("all",), default="all")
    p.add_argument("--misses", action="store_true", help="list the dev split's wrong answers")
    args = p.parse_args(list(argv))
    for split in (SPLITS if args.split == "all" else (args.split,)):
        results = evaluate_logs(split)
        print_logs(split, score_logs(results))
        reports = evaluate_reports(split)
        print_reports(split, reports)
        if args.misses and split == "dev":
            for r in results:
                if not (r.class_ok and (r.code_ok or r.case.confidence == "low")):
                    print(f"  MISS {r.case.file:40} {r.case.cls}/{r.case.code} ({r.case.confidence})  "
                          f"got {r.cls}/{r.code} [{r.confidence}]")
            for case, codes in reports:
                if case.code not in codes and case.visible:
                    print(f"  MISS {case.file:40} {case.code}  got {', '.join(codes) or '-'}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    sys.exit(main(sys.argv[1:]))
