"""jaxd2l.tools.bundle on a tiny fake bundle: the manifest check, the image check, and an offline
install that a fresh Python then imports from."""

import importlib.metadata
import json
import os
import subprocess
import sys
import zipfile

import pytest

from jaxd2l.checks.errors import UserError
from jaxd2l.tools import bundle
from jaxd2l.tools.bundle.__main__ import main as bundle_cli


def tiny_wheel(folder, name="jaxd2l_tiny", version="1.0"):
    """A pure-Python wheel with one module, written by hand."""
    path = os.path.join(folder, f"{name}-{version}-py3-none-any.whl")
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}.py", "ANSWER = 42\n")
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        z.writestr(f"{info}/RECORD", "")
    return path


def fake_bundle(root, image_requires=("jax>=0.4.30",)):
    out = root / "bundle"
    (out / "wheels").mkdir(parents=True)
    (out / "data" / "fashion-mnist").mkdir(parents=True)
    tiny_wheel(str(out / "wheels"))
    (out / "data" / "fashion-mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b data")
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    return out, bundle.write_manifest(
        str(out), {"python_version": here, "image_requires": list(image_requires)}
    )


def test_the_manifest_lists_every_file_with_its_sha256(tmp_path):
    out, manifest = fake_bundle(tmp_path)
    assert set(manifest["files"]) == {
        "wheels/jaxd2l_tiny-1.0-py3-none-any.whl",
        "data/fashion-mnist/train-labels-idx1-ubyte.gz",
    }
    wheel = manifest["files"]["wheels/jaxd2l_tiny-1.0-py3-none-any.whl"]
    assert wheel["sha256"] == bundle.sha256(str(out / "wheels/jaxd2l_tiny-1.0-py3-none-any.whl"))
    assert bundle.check_bundle(str(out))["total_bytes"] == manifest["total_bytes"]


def test_a_damaged_or_missing_file_is_named(tmp_path):
    out, _ = fake_bundle(tmp_path)
    (out / "data/fashion-mnist/train-labels-idx1-ubyte.gz").write_bytes(b"changed")
    os.remove(out / "wheels/jaxd2l_tiny-1.0-py3-none-any.whl")
    with pytest.raises(UserError) as e:
        bundle.check_bundle(str(out))
    assert "train-labels-idx1-ubyte.gz is damaged" in str(e.value)
    assert "jaxd2l_tiny-1.0-py3-none-any.whl is missing" in str(e.value)
    with pytest.raises(UserError, match="no manifest.json"):
        bundle.check_bundle(str(tmp_path))


def test_a_manifest_entry_that_escapes_the_bundle_is_refused(tmp_path):
    out, manifest = fake_bundle(tmp_path)
    outside = tmp_path / "x"
    outside.write_bytes(b"not the bundle's")
    for rel in ("data/../../x", str(outside), "wheels/../../x"):
        edited = {**manifest, "files": {rel: {"sha256": bundle.sha256(str(outside)), "bytes": 1}}}
        (out / "manifest.json").write_text(json.dumps(edited))
        with pytest.raises(UserError, match="outside|relative path inside"):
            bundle.check_bundle(str(out))


def test_the_image_check_names_what_does_not_fit(tmp_path):
    _, manifest = fake_bundle(tmp_path, image_requires=("jax>=999", "not-a-package-here>=1"))
    with pytest.raises(UserError) as e:
        bundle.check_image({**manifest, "python_version": "2.7"})
    message = str(e.value)
    assert "the bundle is for Python 2.7" in message and "jaxd2l needs jax>=999" in message
    assert "not-a-package-here is not installed" in message


@pytest.mark.slow
def test_install_is_offline_and_the_wheels_import(tmp_path):
    out, _ = fake_bundle(tmp_path)
    target = tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(PIP_INDEX_URL="http://127.0.0.1:9/never", PIP_NO_INDEX="1")  # no index at all
    run = subprocess.run(
        [sys.executable, "-m", "jaxd2l.tools.bundle", "install", str(out), "--target", str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    script = (target / "jaxd2l_env.sh").read_text()
    assert f'JAXD2L_FASHION_MNIST_DIR="{out / "data"}/fashion-mnist"' in script
    check = subprocess.run(
        [
            "bash",
            "-c",
            f"source {target}/jaxd2l_env.sh && {sys.executable} "
            "-c 'import jaxd2l_tiny; print(jaxd2l_tiny.ANSWER)'",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.stdout.strip() == "42", check.stderr


def test_install_refuses_a_damaged_bundle_in_one_line(tmp_path):
    out, _ = fake_bundle(tmp_path)
    (out / "data/fashion-mnist/train-labels-idx1-ubyte.gz").write_bytes(b"changed")
    code = bundle_cli(["install", str(out), "--target", str(tmp_path / "site")])
    assert code == 2 and not (tmp_path / "site").exists()


def test_a_manifest_cut_short_is_named_not_a_traceback(tmp_path, capsys):
    out, _ = fake_bundle(tmp_path)
    manifest = out / "manifest.json"
    manifest.write_text(manifest.read_text()[:40])
    assert bundle_cli(["check", str(out)]) == 2
    err = capsys.readouterr().err
    assert "manifest.json is damaged" in err and len(err.strip().splitlines()) == 1


def test_install_into_a_file_is_refused_in_one_line(tmp_path, capsys):
    out, _ = fake_bundle(tmp_path)
    target = tmp_path / "a-file"
    target.write_text("x")
    assert bundle_cli(["install", str(out), "--target", str(target)]) == 2
    assert "it is a file, not a folder" in capsys.readouterr().err


def test_the_packages_to_bundle_leave_out_the_image_and_pyarrow():
    # The bundle reads jaxd2l's own requirements from its installed metadata (`make setup`
    # installs it; CI always does). A checkout on a path only, as on the lent GPU, has none.
    try:
        importlib.metadata.distribution("jaxd2l")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("jaxd2l is not pip-installed here (make setup installs it)")
    packages = bundle.packages_to_bundle("3.12")
    assert "tensorflow-datasets" in packages and "array-record" in packages
    assert "optuna" in packages and "pytest-timeout" in packages
    for name in ("jax", "jaxlib", "numpy", "flax", "optax", "pandas", "pyarrow", "jaxd2l"):
        assert name not in packages
