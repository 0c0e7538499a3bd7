"""`report -o PATH` replaces only a regular file (C9): a FIFO or device stays what it is, and a
symbolic link stays a link whose target gets the report. The temporary file is new (O_EXCL)."""
from __future__ import annotations

import os
import stat

import pytest

from envdoctor.cli import main
from envdoctor.machine.files import NotARegularFile, write_file


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_a_fifo_is_refused_not_replaced(capsys, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "report", "--quick", "-o", str(fifo))
    assert code == 4 and "not a regular file" in err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.listdir(tmp_path) == ["pipe"]


def test_a_symlink_is_kept_and_its_target_written(capsys, tmp_path):
    target, link = tmp_path / "target", tmp_path / "link.md"
    target.write_text("keep\n")
    target.chmod(0o600)
    link.symlink_to(target)
    code, _, err = run(capsys, "report", "--quick", "-o", str(link))
    assert code == 0 and os.path.islink(link)
    assert target.read_text().startswith("# envdoctor report")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["link.md", "target"]  # no temporary file left


def test_a_link_to_something_that_is_no_file_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "out.md").symlink_to(fifo)
    with pytest.raises(NotARegularFile):
        write_file(str(tmp_path / "out.md"), "x")


def test_a_planted_temporary_name_is_not_followed(tmp_path):
    # The old temporary name was predictable (OUT.tmp<pid>); a link planted there was written through.
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    (tmp_path / f"out.md.tmp{os.getpid()}").symlink_to(victim)
    write_file(str(tmp_path / "out.md"), "report")
    assert victim.read_text() == "untouched" and (tmp_path / "out.md").read_text() == "report"
