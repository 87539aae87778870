"""Files a user keeps are never half-written: the one way the project writes a file.

Everything goes to a temporary file in the same folder (so the rename stays on one file
system), is flushed and fsynced, then renamed over the old file. A crash, a kill, a full
disk or an exception while the content is made leaves the old file whole (or no file), and
no temporary file behind. Callers build what they write from checked inputs before calling
here, so a bad input never reaches the file either.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **open_kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside `path` for writing; on a clean exit it is flushed,
    fsynced and renamed over `path`, on an exception removed (the old file stays whole).
    `mode` is "w" or "wb"; `open_kwargs` go to `open` (e.g. `newline=""`)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes a whole file: mode 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if os.path.exists(path):  # keep the old file's permissions (mkstemp makes 0600)
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_text(path: str | os.PathLike, text: str, **open_kwargs: Any) -> None:
    """`text` as the whole of `path`, atomically."""
    with atomic_open(path, "w", **open_kwargs) as fh:
        fh.write(text)


def write_json(path: str | os.PathLike, payload: Any, **dumps_kwargs: Any) -> None:
    """`payload` as JSON (made in full before the file is touched), atomically."""
    write_text(path, json.dumps(payload, **dumps_kwargs) + "\n")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def inside(root: str | os.PathLike, relative: str, name: str = "path") -> str:
    """`root/relative` resolved (symlinks and `..` followed), refused unless it stays inside
    `root`: the one check for a path that a manifest or a user gives relative to a folder."""
    from jaxd2l.checks.errors import ArgumentError

    if not isinstance(relative, str) or not relative or os.path.isabs(relative):
        raise ArgumentError(f"{name} must be a relative path inside {root}, got {relative!r}")
    base = os.path.realpath(root)
    target = os.path.realpath(os.path.join(base, relative))
    if os.path.commonpath([base, target]) != base:
        raise ArgumentError(f"{name} {relative!r} leads outside {root}: refused")
    return target


def output_folder(path: str | os.PathLike, name: str = "--out", empty: bool = False) -> str:
    """The one check for an output folder a user gives: made if missing, refused in one line
    (a UserError naming `name`, the reason and the fix) when it is a file, cannot be made or
    cannot be written, or (`empty`) already holds files. Returns its absolute path."""
    from jaxd2l.checks.errors import UserError

    path = os.fspath(path)
    try:
        if os.path.exists(path) and not os.path.isdir(path):
            raise NotADirectoryError(0, "it is a file, not a folder")
        if empty and os.path.isdir(path) and os.listdir(path):
            raise FileExistsError(0, "it is not empty")
        os.makedirs(path, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(0, "it cannot be written")
    except OSError as e:
        reason = e.strerror or str(e)
        fix = "give a new folder" if empty else "choose a folder you can write"
        raise UserError(f"cannot write to {name} {path}: {reason}; {fix}") from None
    return os.path.abspath(path)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done, then deliver the first one: a write
    (a checkpoint's) is whole or not begun.

    orbax writes with an event loop and worker threads: a KeyboardInterrupt raised inside
    them leaves a half-made checkpoint, never-awaited coroutines and threads still running
    at exit (which can abort the interpreter). Held, a stop lands between epochs instead,
    and the checkpoint it leaves is whole. Only the main thread can hold signals; elsewhere
    this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum, frame):
        held.append(signum)

    previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        if held:
            signal.raise_signal(held[0])


def first_line(error: Exception) -> str:
    """An error's first line (at most 160 characters), for a one-line warning."""
    text = str(error).strip()
    return text.splitlines()[0][:160] if text else type(error).__name__


LOCK = ".jaxd2l.lock"
_HELD: dict[str, int] = {}  # lock path -> how many holders in this process


class FolderLock:
    """A folder a run writes is its own while the run lasts: a lock file in it holds the
    owner's process id, taken over when that process is gone (a killed run leaves it
    behind). A second process is refused in one line naming the folder, the owner and
    `flag`, before it writes anything; the same process may hold it again (it shares)."""

    def __init__(self, folder: str | os.PathLike, flag: str):
        self.path, self.flag, self.held = os.path.join(os.fspath(folder), LOCK), flag, False

    def acquire(self) -> FolderLock:
        from jaxd2l.checks.errors import UserError

        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self.owner()
                if owner == os.getpid():  # this process holds it already: one more holder
                    _HELD[self.path] = _HELD.get(self.path, 0) + 1
                    self.held = True
                    return self
                if owner is not None and _alive(owner):
                    folder = os.path.dirname(self.path)
                    raise UserError(
                        f"{self.flag} {folder} is in use by another run (process {owner}): "
                        f"wait for it to end, or give another {self.flag}"
                    ) from None
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.path)  # its owner is gone: take it over
                continue
            except OSError as e:
                folder = os.path.dirname(self.path)
                raise UserError(f"cannot use {self.flag} {folder}: {e.strerror or e}") from None
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            _HELD[self.path], self.held = 1, True
            return self
        raise UserError(f"cannot lock {self.flag} {os.path.dirname(self.path)}: it keeps changing")

    def owner(self) -> int | None:
        try:
            with open(self.path) as fh:
                return int(fh.read().strip() or -1)
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self.held:
            _HELD[self.path] = _HELD.get(self.path, 1) - 1
            if _HELD[self.path] <= 0 and self.owner() == os.getpid():
                with contextlib.suppress(OSError):
                    os.remove(self.path)
        self.held = False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
