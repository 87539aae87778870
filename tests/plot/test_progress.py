import io
import sys
import types

from jaxd2l.plot import progress

RECORD = {"epoch": 2, "train_loss": 0.5, "train_acc": 0.8, "test_acc": 0.79, "seconds": 0.1}


def test_epoch_printer_line():
    out = io.StringIO()
    progress.EpochPrinter(10, out)(RECORD)
    line = out.getvalue().strip()
    assert line.startswith("epoch  2/10") and "train_acc 0.8000" in line and line.endswith("s")


def test_animator_redraws_one_display_in_a_notebook(monkeypatch):
    shown = []

    class Handle:
        def update(self, image):
            shown.append(("update", image))

    display = types.SimpleNamespace(
        display=lambda image, display_id: shown.append(("display", image)) or Handle(),
        Image=lambda data, format: (format, data),
    )
    shell = types.SimpleNamespace(config={"IPKernelApp": {}})
    fake = types.ModuleType("IPython")
    fake.display = display
    fake.get_ipython = lambda: shell
    fake.version_info = (9, 0)
    monkeypatch.setitem(sys.modules, "IPython", fake)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    assert progress.in_notebook()
    animator = progress.default_progress(3)
    assert isinstance(animator, progress.Animator)
    animator(dict(RECORD, epoch=1))
    animator(RECORD)
    assert [kind for kind, _ in shown] == ["display", "update"]
    for _, (fmt, data) in shown:  # the figure as PNG bytes, whatever matplotlib's backend
        assert fmt == "png" and data.startswith(b"\x89PNG")


def test_not_a_notebook_by_default(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert isinstance(progress.default_progress(3), progress.EpochPrinter)
