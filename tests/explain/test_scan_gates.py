"""Which chunks of a log are searched for which gates: every gate in the first and the last
chunk, the common gates (error words and markers) everywhere (signatures.RARE_GATES)."""
from __future__ import annotations

from envdoctor.explain import explain_log
from envdoctor.explain.reader import CHUNK

# A real line without any error word (rikdz/GraphWriter#6): only the rare gate "driver" finds it.
RARE = "The NVIDIA driver on your system is too old (found version 6050).\n"
COMMON = "RuntimeError: CUDA error: no kernel image is available for execution on the device\n"
FILLER = "Processed prompts: 100% 8/8 [00:01<00:00,  5.12it/s]\n"


def log(tmp_path, head: str, tail: str):
    body = FILLER * (2 * CHUNK // len(FILLER) + 1000)  # more than two chunks between
    path = tmp_path / "big.log"
    path.write_text(head + body + tail)
    return str(path)


def test_a_rare_text_is_found_at_the_end_of_a_big_log(tmp_path):
    e = explain_log(log(tmp_path, "", RARE))
    assert e.root.finding.code == "driver-too-old-for-torch"
    assert e.root.line.number == e.lines  # the last line, numbered right


def test_a_rare_text_is_found_at_the_start_of_a_big_log(tmp_path):
    e = explain_log(log(tmp_path, RARE, ""))
    assert e.root.finding.code == "driver-too-old-for-torch" and e.root.line.number == 1


def test_common_gates_are_searched_everywhere(tmp_path):
    middle = FILLER * (CHUNK // len(FILLER) + 10) + COMMON
    e = explain_log(log(tmp_path, middle, ""))
    assert e.root.finding.code == "torch-arch-missing-for-gpu"
