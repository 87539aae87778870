"""The docs site: built with Sphinx + MyST-NB (warnings are errors), which executes every
chapter notebook and the research guide (so each recipe runs as a test); then the pages are
checked as a reader sees them: plots present, no broken links, rendered in a browser."""

import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

import pytest

from tests.conftest import DATA_VARIABLES, REAL_DATA_ENV

# builds the whole docs site (a few minutes) and renders it in Chromium
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "docs" / "chapters").glob("*.md"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs") / "html"
    env = {k: v for k, v in os.environ.items() if k not in DATA_VARIABLES}
    env.update(REAL_DATA_ENV, JAXD2L_DOCS_QUICK="1")  # the chapters run on the real data
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(ROOT / "docs"),
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=720,
    )
    assert build.returncode == 0, (build.stdout + build.stderr)[-5000:]
    return out


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.images, self.ids, self.tags = [], [], set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text())
    return page


def test_the_claims_chapter_shows_its_table_as_a_table(site):
    """The claims' table is an HTML table in the built page (a Markdown string displayed
    from a notebook rendered its pipes as one paragraph), with every claim's verdict."""
    page = site / "chapters" / "claims.html"
    assert parse(page).tags.count("table") >= 2  # the verdicts, and each claim's values
    text = page.read_text()
    assert "each part" in text and "sha256" in text


def test_every_chapter_page_shows_its_executed_plots(site):
    assert len(CHAPTERS) == 16
    for chapter in CHAPTERS:
        path = site / "chapters" / f"{chapter}.html"
        images = [src for src in parse(path).images if src.endswith(".png")]
        assert images, f"{chapter}: no plot on the page"
        for src in images:
            image = (path.parent / urllib.parse.unquote(src)).resolve()
            assert image.stat().st_size > 1000, f"{chapter}: {src} is missing or empty"


def test_no_broken_links(site):
    pages = {p.resolve(): parse(p) for p in site.rglob("*.html")}
    broken = []
    for path, page in pages.items():
        for href in page.links:
            url = urllib.parse.urlsplit(href)
            if url.scheme or href.startswith("mailto:"):
                continue  # external: not reachable from here, and not ours to check
            target = (path.parent / urllib.parse.unquote(url.path)).resolve() if url.path else path
            if not target.exists():
                broken.append(f"{path.name}: {href}")
            elif url.fragment and target in pages and url.fragment not in pages[target].ids:
                broken.append(f"{path.name}: {href} (no such anchor)")
    assert not broken, broken[:20]


def test_api_reference_covers_the_public_functions(site):
    ids = parse(site / "api.html").ids
    for name in (
        "jaxd2l.core.step.make_train_step",
        "jaxd2l.core.fit.fit",
        "jaxd2l.nn.stacks.with_seeds",
        "jaxd2l.core.drivers.fit_whole_run",
        "jaxd2l.core.drivers.make_train",
        "jaxd2l.core.epoch.Epoch",
        "jaxd2l.core.epoch.epoch_function",
        "jaxd2l.core.hooks.Checkpoint",
        "jaxd2l.nn.early_stopping.EarlyStopping",
        "jaxd2l.nn.evaluate.make_evaluate",
        "jaxd2l.core.history.DivergedError",
        "jaxd2l.core.drivers.Trained",
        "jaxd2l.checks.moved.where",
        "jaxd2l.tools.portability.export_epoch",
        "jaxd2l.core.step.Model",
        "jaxd2l.data.folds.kfold_weights",
        "jaxd2l.tools.portability.export_report",
        "jaxd2l.core.keys.run_keys",
        "jaxd2l.core.parallel.make_mesh",
        "jaxd2l.core.checkpoint.Checkpointer",
        "jaxd2l.models.mlp.model",
        "jaxd2l.search.loop.run_search",
    ):
        assert name in ids, name


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (make test installs Debian's)")
@pytest.mark.parametrize("page", ["chapters/softmax_regression.html", "api.html"])
def test_pages_render_in_a_headless_browser(site, page, tmp_path):
    profile = tempfile.mkdtemp()
    url = (site / page).as_uri()
    shot = tmp_path / "page.png"
    for extra in (["--dump-dom"], ["--window-size=1200,2400", f"--screenshot={shot}"]):
        run = subprocess.run(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        if extra == ["--dump-dom"]:
            dom = Page()
            dom.feed(run.stdout)
            assert dom.links, "the browser saw no page"
            if page.startswith("chapters/"):
                rendered = [s for s in dom.images if s.endswith(".png")]
                assert rendered and all(
                    ((site / page).parent / urllib.parse.unquote(s)).exists() for s in rendered
                )
    assert shot.stat().st_size > 10000  # a real screenshot, not an empty page


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (make test installs Debian's)")
def test_formulas_are_typeset_from_the_site_itself(site):
    """MathJax is served from _static (no CDN: the browser here has no network), and every
    formula on a page full of them is typeset: none is left as TeX source."""
    page = site / "chapters" / "distribution_shift.html"
    source = page.read_text()
    scripts = re.findall(r'<script[^>]*src="([^"]*MathJax[^"]*)"', source)
    assert scripts and all(not s.startswith(("http:", "https:", "//")) for s in scripts), scripts
    formulas = source.count('class="math notranslate nohighlight"')
    run = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tempfile.mkdtemp()}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    typeset = run.stdout.count('class="mjx-chtml')
    raw = re.findall(r'<span class="math notranslate nohighlight">\\[(\[]', run.stdout)
    assert formulas >= 10 and typeset == formulas and not raw, (
        f"{typeset} of {formulas} formulas typeset, {len(raw)} left as TeX"
    )


def test_the_results_page_is_rendered_from_the_records(site):
    from jaxd2l.tools.results.render import load

    text = (site / "results.html").read_text()
    records = load()
    assert records, "results/ holds no record"
    for name in ("benchmark_reference", "claims", "mlp_init_pretrain"):
        assert f"results/{name}.json" in text, name
    assert text.count("Source") >= 3  # provenance under the tables
