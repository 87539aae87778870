"""jaxd2l.checks.files: every file the project rewrites is written whole or not at all.

Each writer is failed part-way (the disk fills at the fsync, or the content raises while it
is written, or the process is killed mid-write) and the old file is found whole."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from jaxd2l.checks import files

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OLD = "the old content, whole\n"


def full_disk(monkeypatch):
    def fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", fsync)


def leftovers(folder):
    return [n for n in os.listdir(folder) if n.endswith(".tmp")]


def test_a_write_replaces_the_whole_file_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(OLD)
    os.chmod(path, 0o640)
    files.write_text(path, "new\n")
    assert path.read_text() == "new\n" and (os.stat(path).st_mode & 0o777) == 0o640
    files.write_json(tmp_path / "sub" / "b.json", {"x": [1, 2]})  # folders made
    assert json.loads((tmp_path / "sub" / "b.json").read_text()) == {"x": [1, 2]}
    assert leftovers(tmp_path) == []
    with pytest.raises(ValueError, match="mode 'w' or 'wb'"):
        with files.atomic_open(path, "a"):
            pass


def test_an_error_while_writing_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(OLD)
    with pytest.raises(RuntimeError):
        with files.atomic_open(path) as fh:
            fh.write("half of the new")
            raise RuntimeError("the content failed")
    assert path.read_text() == OLD and leftovers(tmp_path) == []
    with pytest.raises(TypeError):  # not JSON: refused before the file is touched
        files.write_json(path, {"x": object()})
    assert path.read_text() == OLD


def test_a_full_disk_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    path.write_text(OLD)
    full_disk(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        files.write_text(path, "new content\n")
    assert path.read_text() == OLD and leftovers(tmp_path) == []


@pytest.mark.slow
def test_a_process_killed_mid_write_leaves_the_old_file_whole(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(OLD)
    child = (
        "import os, signal, sys\n"
        "from jaxd2l.checks import files\n"
        "with files.atomic_open(sys.argv[1]) as fh:\n"
        "    fh.write('half of the new'); fh.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    out = subprocess.run([sys.executable, "-c", child, str(path)], cwd=ROOT, timeout=120)
    assert out.returncode == -signal.SIGKILL
    assert path.read_text() == OLD  # a temporary may stay beside it; the file is whole


def test_every_writer_the_project_has_keeps_the_old_file_on_a_full_disk(tmp_path, monkeypatch):
    from jaxd2l.chapters.house_prices import write_submission
    from jaxd2l.cli.record import write_csv, write_json
    from jaxd2l.plot.figures import new_figure, save
    from jaxd2l.tools.bundle.manifest import write_manifest

    fig = new_figure(2, 2)
    writers = {
        "metrics.json": lambda p: write_json(str(p), {"status": "done"}),
        "trials.csv": lambda p: write_csv([{"lr": 0.1, "acc": 0.8}], str(p)),
        "submission.csv": lambda p: write_submission([1, 2], np.array([1.0, 2.0]), str(p)),
        "figure.png": lambda p: save(fig, p),
        "manifest.json": lambda p: write_manifest(str(p.parent), {"files": {}}),
    }
    for name, write in writers.items():
        folder = tmp_path / name.replace(".", "_")
        folder.mkdir()
        target = folder / name
        target.write_text(OLD)
        with monkeypatch.context() as m:
            full_disk(m)
            with pytest.raises(OSError, match="No space left"):
                write(target)
        assert target.read_text() == OLD, name
        assert leftovers(folder) == [], name
        write(target)  # and it writes, normally
        assert target.read_bytes() != OLD.encode(), name


def test_a_damaged_record_leaves_the_readme_as_it_was_and_says_so_in_one_line(
    tmp_path, monkeypatch, capsys
):
    from jaxd2l.tools.results import __main__ as cli
    from jaxd2l.tools.results import render

    results = tmp_path / "results"
    results.mkdir()
    (results / "softmax_scratch.json").write_text('{"name": "softmax_scr')  # cut short
    readme = tmp_path / "README.md"
    readme.write_text(OLD)
    with pytest.raises(Exception, match=r"softmax_scratch.json is not a whole record"):
        render.update_readme(str(results), str(readme))
    assert readme.read_text() == OLD
    monkeypatch.setattr(cli, "update_readme", lambda: render.update_readme(results, readme))
    assert cli.run(["readme"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "NAMES=softmax_scratch" in err
    assert readme.read_text() == OLD


def test_a_folder_a_run_writes_is_its_own_while_it_runs(tmp_path):
    # issue 39: two runs resuming one checkpoint folder together interleaved their saves
    # and one ended in a traceback from inside orbax
    import subprocess
    import sys
    import time

    from jaxd2l.checks.errors import UserError
    from jaxd2l.checks.files import FolderLock
    from jaxd2l.core.checkpoint import Checkpointer

    hold = (
        "import sys, time\n"
        "from jaxd2l.checks.files import FolderLock\n"
        "FolderLock(sys.argv[1], 'checkpoint_dir').acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", hold, str(tmp_path)], stdout=subprocess.PIPE)
    in_use = rf"checkpoint_dir {tmp_path} is in use by another run \(process {holder.pid}\)"
    try:
        assert holder.stdout.readline().strip() == b"held"
        with pytest.raises(UserError, match=in_use):
            Checkpointer(str(tmp_path), flags={}, resume=True)
        assert sorted(p.name for p in tmp_path.iterdir()) == [".jaxd2l.lock"]  # wrote nothing
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    with Checkpointer(str(tmp_path), flags={}, resume=True):  # its owner is gone: taken over
        assert FolderLock(tmp_path, "x").owner() == os.getpid()
        with Checkpointer(str(tmp_path), flags={}, resume=True):  # the same process shares it
            pass
        assert (tmp_path / ".jaxd2l.lock").exists()  # the outer one still holds it
    assert not (tmp_path / ".jaxd2l.lock").exists()  # released when the last closed
