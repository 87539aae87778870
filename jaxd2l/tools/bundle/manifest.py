"""A bundle's manifest: every file with its SHA-256 and size, written when the bundle is made
and checked before anything is installed from it."""

from __future__ import annotations

import hashlib
import json
import os

from jaxd2l.checks import files, schema
from jaxd2l.checks.errors import UserError
from jaxd2l.checks.files import inside

MANIFEST = "manifest.json"


def sha256(path: str) -> str:
    """The file's SHA-256, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(out: str, manifest: dict) -> dict:
    """Add every file under `out` with its SHA-256 and size to `manifest`, write it as
    out/manifest.json, and return it."""
    manifest = {**manifest, "files": {}}
    for folder, _, names in sorted(os.walk(out)):
        for name in sorted(names):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, out)
            if rel != MANIFEST:
                manifest["files"][rel] = {"sha256": sha256(path), "bytes": os.path.getsize(path)}
    manifest["total_bytes"] = sum(f["bytes"] for f in manifest["files"].values())
    files.write_json(os.path.join(out, MANIFEST), manifest, indent=1)
    return manifest


SCHEMA = {
    "type": "object",
    "required": ["files"],
    "properties": {
        "files": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["sha256"],
                "properties": {"sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
            },
        }
    },
}
"""What a manifest holds (`checks.schema`): each file with its SHA-256."""


def check_bundle(bundle: str) -> dict:
    """The manifest, after checking every file it lists is there with its SHA-256."""
    path = os.path.join(bundle, MANIFEST)
    if not os.path.isfile(path):
        raise UserError(f"{bundle}: no {MANIFEST}; is this a bundle made by `make bundle`?")
    try:
        with open(path) as f:
            manifest = json.load(f)
        schema.validate(manifest, SCHEMA, f"the manifest {path}")
    except (json.JSONDecodeError, UnicodeDecodeError, UserError) as e:
        raise UserError(f"{path} is damaged ({e}); copy the bundle again") from None
    files = manifest["files"]
    problems = []
    for rel, want in files.items():
        try:
            file = inside(bundle, rel, "a manifest entry")
        except ValueError as e:
            problems.append(str(e))
            continue
        if not os.path.isfile(file):
            problems.append(f"{rel} is missing")
        elif sha256(file) != want["sha256"]:
            problems.append(f"{rel} is damaged (SHA-256 differs from the manifest)")
    if problems:
        raise UserError(f"{bundle}: " + "; ".join(problems) + ": copy the bundle again")
    return manifest
