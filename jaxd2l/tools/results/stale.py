"""Whether a record is current: the code its command ran (the experiment module and every
jaxd2l module it imports, followed through the imports) compared, with git, between the
record's commit and the working tree. A record is stale when the code of any of those files
changed: files are compared as syntax trees without docstrings, so an edit of a comment or
a docstring leaves a record current, and an edit of anything that runs does not."""

from __future__ import annotations

import ast
import functools
import os
import subprocess

from jaxd2l.tools.accel_check import ROOT

OURS = ("jaxd2l", "experiments")


def _file_of(module: str, root: str) -> str | None:
    """The source file of a dotted module of ours (a package's __init__.py), relative."""
    base = os.path.join(*module.split("."))
    for candidate in (f"{base}.py", os.path.join(base, "__init__.py")):
        if os.path.exists(os.path.join(root, candidate)):
            return candidate
    return None


def _imports(path: str, module: str, root: str) -> set[str]:
    """The dotted modules of ours `path` imports (anywhere in it, functions included)."""
    with open(os.path.join(root, path)) as fh:
        try:
            tree = ast.parse(fh.read(), path)
        except SyntaxError:  # counted as changed by `code_changed`; imports unknown
            return set()
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}  # `from pkg import module`
    return {m for m in found if m.split(".")[0] in OURS}


def code_of(module: str, root: str = ROOT) -> list[str]:
    """Every source file of ours that `module` (e.g. "experiments.xor") runs, by following
    its imports: relative paths, sorted."""
    seen: dict[str, str] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        for step in range(name.count(".") + 1):  # a package's __init__ runs first
            part = ".".join(name.split(".")[: step + 1])
            path = _file_of(part, root)
            if path and part not in seen:
                seen[part] = path
                todo.extend(_imports(path, part, root))
    return sorted(set(seen.values()))


def code(text: str) -> str | None:
    """A source file's code: its syntax tree without docstrings (comments never reach it),
    or None when it does not parse."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


@functools.lru_cache(maxsize=4096)  # records share commits and files: ask git once each
def code_at(commit: str, path: str, root: str = ROOT) -> str | None:
    """`path`'s code at `commit` (None when git does not have it or it does not parse)."""
    try:
        said = subprocess.run(
            ["git", "show", f"{commit}:{path}"], cwd=root, capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return code(said.stdout.decode("utf-8", "replace")) if said.returncode == 0 else None


def code_changed(commit: str, path: str, root: str = ROOT) -> bool:
    """Whether `path`'s code differs between `commit` and the working tree (a file that is
    new, gone or does not parse counts as changed)."""
    try:
        with open(os.path.join(root, path), encoding="utf-8") as fh:
            now = code(fh.read())
    except OSError:
        return True
    then = code_at(commit, path, root)
    return then is None or now is None or then != now


def changed_since(commit: str | None, paths: list[str], root: str = ROOT) -> list[str] | None:
    """The files of `paths` whose code differs between `commit` and the working tree (None
    when git cannot tell: no commit recorded, or one this clone does not hold)."""
    if not commit:
        return None
    try:
        said = subprocess.run(
            ["git", "diff", "--name-only", commit, "--", *paths],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if said.returncode != 0:
        return None
    return [p for p in said.stdout.splitlines() if p and code_changed(commit, p, root)]


def stale_records(records: dict[str, dict], root: str = ROOT) -> dict[str, dict]:
    """{name: {"commit", "changed" (files) or "unknown" (why git cannot tell)}} for every
    record whose code changed since it was made, or whose commit git cannot compare."""
    out = {}
    code: dict[str, list[str]] = {}
    for name, payload in sorted(records.items()):
        module = f"experiments.{payload['module']}"
        commit = payload.get("provenance", {}).get("commit")
        paths = code.setdefault(module, code_of(module, root))
        changed = changed_since(commit, paths, root)
        if changed is None:
            out[name] = {"commit": commit, "unknown": "git cannot compare its commit here"}
        elif changed:
            out[name] = {"commit": commit, "changed": changed}
    return out


def describe(name: str, stale: dict) -> str:
    """One line for `results check`."""
    commit = (stale.get("commit") or "no commit")[:10]
    if "unknown" in stale:
        return f"{name}: made at {commit}; {stale['unknown']}"
    files = stale["changed"]
    shown = ", ".join(files[:4]) + (f" and {len(files) - 4} more" if len(files) > 4 else "")
    return f"{name}: stale, made at {commit}; changed since: {shown}"


def mark_stale(page: str, stale: dict[str, dict]) -> str:
    """Each stale record's source marked where it is cited, and a list under the title
    (`python -m jaxd2l.tools.results check`; `make results-stale` remakes them)."""
    for name in stale:
        cited = f"`results/{name}.json`"
        page = page.replace(cited, f"{cited} (**stale**: its code changed since)")
    if not stale:
        return page
    listed = "\n".join(f"- {describe(name, said)}" for name, said in stale.items())
    note = (
        f"**{len(stale)} record(s) are stale**: the code their command ran changed since their "
        f"commit (`make results-stale` remakes them):\n\n{listed}\n"
    )
    title, _, rest = page.partition("\n\n## ")
    return f"{title}\n\n{note}\n## {rest}"
