"""Results from records: the README's generated blocks and the Results page agree with
results/, every record's command still parses, and no prose types a measured figure."""

import glob
import importlib
import json
import os
import shlex

import pytest

from jaxd2l.checks.errors import UserError
from jaxd2l.cli.parse import parse_config
from jaxd2l.tools.accel_check import ROOT
from jaxd2l.tools.results import catalog, check, make, provenance, render

RECORDS = render.load()
GENERATED = os.path.join(ROOT, "docs", "results.md")  # written from the records at build time
PAGES = [os.path.join(ROOT, "README.md")] + sorted(
    p
    for p in glob.glob(os.path.join(ROOT, "docs", "*.md"))
    + glob.glob(os.path.join(ROOT, "docs", "chapters", "*.md"))
    if p != GENERATED
)


def test_the_readme_is_short():
    with open(render.README) as fh:
        assert len(fh.read().splitlines()) <= 200


def test_the_readme_blocks_agree_with_the_records():
    with open(render.README) as fh:
        text = fh.read()
    assert render.replace_blocks(text, render.readme_blocks()) == text, (
        "the README's generated blocks drifted from results/: run `python -m "
        "jaxd2l.tools.results readme` (or `make results`)"
    )


def test_every_documented_run_has_a_record_and_its_command_parses():
    missing = [e.name for e in catalog.ENTRIES if e.name not in RECORDS]
    assert not missing, f"no record for {missing}: make results NAMES='{' '.join(missing)}'"
    for name, payload in RECORDS.items():
        words = shlex.split(payload["provenance"]["command"])
        assert words[:2] == ["python", "-m"] and words[2] == f"experiments.{payload['module']}"
        module = importlib.import_module(words[2])
        parse_config(module.Config, words[3:])  # exits 2 on a flag that no longer exists
        assert payload["record"]["status"] == "done", name


def test_every_record_carries_its_provenance():
    for name, payload in RECORDS.items():
        prov = payload["provenance"]
        for field in (
            "command",
            "commit",
            "clean",
            "python",
            "jax",
            "jaxlib",
            "flax",
            "optax",
            "device_kind",
            "device_count",
            "cpu",
            "cores",
            "date",
        ):
            assert field in prov and prov[field] is not None, (name, field)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: os.path.relpath(p, ROOT))
def test_no_prose_types_a_measured_figure(path):
    with open(path) as fh:
        found = check.typed_figures(fh.read())
    assert not found, f"figures typed outside a generated block: {found[:5]}"


def test_typed_figures_skips_code_and_generated_blocks():
    text = "\n".join(
        [
            "the MLP takes 0.4 s/epoch here",
            "```",
            "print('0.3 s/epoch')",
            "```",
            "<!-- results:x -->",
            "| mlp | 0.85 test acc 0.851 |",
            "<!-- /results:x -->",
            "test accuracy 0.848 from scratch, 3x faster, 175 GFLOP/s",
        ]
    )
    assert [n for n, _ in check.typed_figures(text)] == [1, 8]


def test_blocks_are_replaced_and_missing_markers_named():
    text = "a\n<!-- results:t -->\nold\n<!-- /results:t -->\nb"
    assert render.replace_blocks(text, {"t": "new"}) == (
        "a\n<!-- results:t -->\nnew\n<!-- /results:t -->\nb"
    )
    with pytest.raises(ValueError, match="no generated block 'u'"):
        render.replace_blocks(text, {"u": "x"})


def test_the_results_page_shows_every_record_with_its_source():
    page = render.results_page()
    for name, payload in RECORDS.items():
        if payload["summary"]:
            assert payload["summary"].replace("|", "/") in page, name
    assert page.count("Source") >= 3 and "results/benchmark_reference.json" in page


def test_an_empty_results_folder_says_how_to_make_each_record(tmp_path):
    page = render.results_page(str(tmp_path))
    assert "make results NAMES=benchmark_reference" in page and "Nothing here" in page


def test_pick_names_the_known_entries():
    assert [e.name for e in make.pick(["claims", "losses"])] == ["losses", "claims"]
    with pytest.raises(UserError, match="unknown result nope"):
        make.pick(["nope"])


def test_provenance_says_where_a_record_came_from():
    prov = provenance.provenance("python -m experiments.xor", {"device_kind": "cpu"})
    assert prov["command"] == "python -m experiments.xor" and prov["cores"] >= 1
    assert prov["jax"] and prov["optax"] and prov["date"].endswith("UTC")
    assert "experiments.xor" in provenance.line(prov)


@pytest.mark.slow
def test_run_entry_writes_a_record_and_keeps_the_old_one_on_failure(tmp_path):
    entry = catalog.Entry("xor", "xor", ("--steps", "20"), "4.1")
    assert make.run_entry(entry, str(tmp_path), log=lambda _: None)
    payload = json.loads((tmp_path / "xor.json").read_text())
    assert payload["record"]["status"] == "done" and payload["record"]["config"]["out"] is None
    assert payload["provenance"]["command"] == "python -m experiments.xor --steps 20"
    assert payload["summary"].startswith("xor:")
    broken = catalog.Entry("xor", "xor", ("--steps", "-1"), "4.1")
    assert not make.run_entry(broken, str(tmp_path), log=lambda _: None)
    assert json.loads((tmp_path / "xor.json").read_text()) == payload  # kept


def test_a_record_is_stale_exactly_when_the_code_it_ran_changed(tmp_path):
    import subprocess

    from jaxd2l.tools.results import stale

    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True
        ).stdout.strip()

    for path, text in {
        "experiments/__init__.py": "",
        "experiments/run.py": "from jaxd2l.core import used\nimport jaxd2l.core.also as also\n",
        "jaxd2l/__init__.py": "",
        "jaxd2l/core/__init__.py": "",
        "jaxd2l/core/used.py": "from .deep import x\n",
        "jaxd2l/core/deep.py": "x = 1\n",
        "jaxd2l/core/also.py": "",
        "jaxd2l/core/unused.py": "y = 2\n",
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    git("init", "-q")
    git("-c", "user.email=a@b", "-c", "user.name=a", "add", "-A")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "first")
    commit = git("rev-parse", "HEAD")
    assert "jaxd2l/core/deep.py" in stale.code_of("experiments.run", str(tmp_path))  # followed
    records = {
        "run": {"module": "run", "provenance": {"commit": commit}},
        "lost": {"module": "run", "provenance": {"commit": "0" * 40}},
    }
    (tmp_path / "jaxd2l/core/unused.py").write_text("y = 3\n")  # not run: not stale
    found = stale.stale_records(records, str(tmp_path))
    assert "run" not in found and "unknown" in found["lost"]
    (tmp_path / "jaxd2l/core/deep.py").write_text("x = 2\n")  # imported through used.py
    found = stale.stale_records(records, str(tmp_path))
    assert found["run"]["changed"] == ["jaxd2l/core/deep.py"]
    page = stale.mark_stale("# Results\n\nintro\n\n## Table\n\nSource: `results/run.json`", found)
    assert "`results/run.json` (**stale**" in page and "2 record(s) are stale" in page


def test_staleness_follows_the_code_not_its_comments_and_check_exits_1_for_ci(
    tmp_path, monkeypatch, capsys
):
    # issue 39: a comment-only edit of jaxd2l/core/step.py marked all 40 records stale, and
    # `results check` exited 0 whatever it found
    import subprocess

    from jaxd2l.tools.results import __main__ as cli
    from jaxd2l.tools.results import stale

    def git(*args):
        said = subprocess.run(
            ["git", "-c", "user.email=a@b", "-c", "user.name=a", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
            text=True,
        )
        return said.stdout.strip()

    source = '"""The step."""\n\n\ndef step(x):\n    """One step."""\n    return x + 1  # add\n'
    for path, text in {
        "experiments/__init__.py": "",
        "experiments/run.py": "from jaxd2l import step\n",
        "jaxd2l/__init__.py": "",
        "jaxd2l/step.py": source,
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "first")
    records = {"run": {"module": "run", "provenance": {"commit": git("rev-parse", "HEAD")}}}
    step = tmp_path / "jaxd2l/step.py"
    step.write_text(source.replace("# add", "# add one").replace("One step.", "A step, d2l 3.4."))
    assert stale.stale_records(records, str(tmp_path)) == {}  # comments and docstrings
    step.write_text(source.replace("x + 1", "x + 2"))
    assert stale.stale_records(records, str(tmp_path))["run"]["changed"] == ["jaxd2l/step.py"]
    step.write_text("def step(x:\n")  # does not parse: changed
    assert "run" in stale.stale_records(records, str(tmp_path))
    monkeypatch.setattr(cli, "load", lambda: records)
    monkeypatch.setattr(cli, "stale_records", lambda r: stale.stale_records(r, str(tmp_path)))
    assert cli.main(["check"]) == 1
    assert "run: stale" in capsys.readouterr().out
    step.write_text(source)
    assert cli.main(["check"]) == 0
    assert "0 of 1 records are stale" in capsys.readouterr().out


def test_a_record_is_read_against_its_schema_naming_the_file_and_the_key(tmp_path):
    # issue 39: one loader per kind of structured file, the error naming file, key and value
    from jaxd2l.checks.errors import UserError
    from jaxd2l.tools.results.records import load

    good = {
        "name": "xor",
        "module": "xor",
        "provenance": {"command": "python -m experiments.xor", "commit": None, "date": "d"},
        "record": {},
    }
    (tmp_path / "xor.json").write_text(json.dumps(good))
    assert list(load(str(tmp_path))) == ["xor"]
    for bad, said in (
        ({**good, "name": 3}, r"\['name'\]: 3 is not of type 'string'"),
        ({**good, "name": "other"}, r"\['name'\]: 'other' is not 'xor'"),
        ({k: v for k, v in good.items() if k != "record"}, "'record' is a required property"),
        ({**good, "provenance": {"commit": "a"}}, r"\['provenance'\]: 'command' is a required"),
    ):
        (tmp_path / "xor.json").write_text(json.dumps(bad))
        with pytest.raises(UserError, match=f"the record {tmp_path}/xor.json: .*{said}"):
            load(str(tmp_path))
