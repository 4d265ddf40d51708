"""The one guard of every file a command writes (``-o`` of analyze, extract, export,
report, corrections, train, ...).

    check_output(path, force=, inputs=, corpus=)   refuse before any work is done
    check_output_folder(path, inputs=, corpus=)    the same for a folder written into (train)
    Outputs(force=, inputs=, corpus=)              a set of files written all or nothing:
        with Outputs(...) as out:
            tmp = out.path("report.html")          # write into tmp
        # leaving the block renames every temporary file over its target at once;
        # an exception removes them and leaves the targets as they were
    safe_output(path, ...)                         the same for one file: yields its tmp

Rules, the same for every command:

- never a corpus: the database a command names (``--db``, ``$SOURCETRACE_DB``, the
  default ``sourcetrace.db``) nor its ``-wal``, ``-shm`` or ``-journal`` file, nor any
  existing file that is an SQLite database, even with ``force``;
- never an input: compared after resolving the path (symbolic links followed, hard
  links by inode), even with ``force``;
- an existing file only with ``force`` (``append`` keeps it and adds to it); a folder never;
- written to a temporary file in the target's own folder, then renamed over it
  (``os.replace``, atomic on one file system), so that a failure half way leaves no
  half-written, empty or missing file. A target that is a symbolic link is followed:
  the file it points to is replaced.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import ConfigError, os_reason

__all__ = ["Outputs", "check_output", "check_output_folder", "corpus_files", "safe_output"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_SIDE_FILES = ("-wal", "-shm", "-journal")
_DEFAULT_DB = "sourcetrace.db"   # corpus.store.DEFAULT_DB (not imported: output/ stays light)


def _is_url(name: str) -> bool:
    return "://" in name


def corpus_files(corpus: Iterable[str | os.PathLike | None] = ()) -> list[Path]:
    """The files of the corpora named (and of ``$SOURCETRACE_DB`` and the default
    ``sourcetrace.db``): each database and its -wal, -shm and -journal files, resolved."""
    names = [str(c) for c in corpus if c]
    names += [os.environ.get("SOURCETRACE_DB") or "", _DEFAULT_DB]
    out: list[Path] = []
    for name in names:
        if not name or name == ":memory:" or _is_url(name):
            continue
        base = _real(Path(name))
        out.append(base)
        out.extend(base.with_name(base.name + side) for side in _SIDE_FILES)
    return out


def _real(path: Path) -> Path:
    """The absolute path with every symbolic link followed (the path need not exist)."""
    return Path(os.path.realpath(os.path.abspath(path)))


def _same(a: Path, b: Path) -> bool:
    if _real(a) == _real(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def check_output(path: str | os.PathLike, *, force: bool = False,
                 inputs: Iterable[str | os.PathLike | None] = (),
                 corpus: Iterable[str | os.PathLike | None] = (),
                 append: bool = False) -> Path:
    """Refuse to write ``path`` (ConfigError naming why) when it is a corpus or one of its
    files, one of ``inputs``, a folder, or an existing file without ``force`` or
    ``append``. Returns ``path`` as a Path. See the module docstring."""
    path = Path(path)
    real = _real(path)
    for db in corpus_files(corpus):
        if real == db or _same(path, db):
            what = "the corpus database" if db.suffix != "" and not db.name.endswith(
                _SIDE_FILES) else "a file of the corpus database"
            raise ConfigError(f"{path} is {what} ({db.name}): refusing to write over it, "
                              "even with --force", hint="give -o another file name")
    for side in _SIDE_FILES:
        if real.name.endswith(side) and _is_sqlite(real.with_name(real.name[:-len(side)])):
            raise ConfigError(f"{path} belongs to the database "
                              f"{real.name[:-len(side)]}: refusing to write over it",
                              hint="give -o another file name")
    for given in inputs:
        if given is None or str(given) in ("", "-") or _is_url(str(given)):
            continue
        if _same(path, Path(given)):
            raise ConfigError(f"{path} is the input: refusing to write over it, even with "
                              "--force", hint="give -o another file name")
    if real.is_dir():
        raise ConfigError(f"{path} is a folder, not a file", hint="give -o a file name")
    if real.exists() or path.is_symlink():
        if _is_sqlite(real):
            raise ConfigError(f"{path} is an SQLite database (a corpus?): refusing to write "
                              "over it, even with --force", hint="give -o another file name")
        if not (force or append):
            raise ConfigError(f"{path} exists: refusing to overwrite it",
                              hint="give another -o FILE, or --force to replace it")
    return path


def check_output_folder(path: str | os.PathLike, *,
                        inputs: Iterable[str | os.PathLike | None] = (),
                        corpus: Iterable[str | os.PathLike | None] = ()) -> Path:
    """The rules of check_output for a folder a command writes into (train's weights):
    never a corpus file nor an existing file, never an input nor a folder holding one."""
    path = Path(path)
    real = _real(path)
    if real in corpus_files(corpus) or (real.exists() and not real.is_dir()):
        raise ConfigError(f"{path} is a file, not a folder: refusing to write over it",
                          hint="give --output a folder name")
    for given in inputs:
        if given is None or str(given) in ("", "-") or _is_url(str(given)):
            continue
        other = _real(Path(given))
        if other == real or real in other.parents:
            raise ConfigError(f"{path} holds the input {given}: refusing to write into it",
                              hint="give --output another folder")
    return path


class Outputs:
    """Files written all or nothing: ``path(target)`` checks ``target`` (check_output)
    and gives the temporary file to write instead; leaving the ``with`` block without
    an error renames every temporary file over its target, with one removes them all."""

    def __init__(self, *, force: bool = False,
                 inputs: Iterable[str | os.PathLike | None] = (),
                 corpus: Iterable[str | os.PathLike | None] = ()) -> None:
        self.force = force
        self.inputs = [i for i in inputs]
        self.corpus = [c for c in corpus]
        self._pending: list[tuple[Path, Path, bool]] = []   # (tmp, target, append)

    def check(self, target: str | os.PathLike, *, append: bool = False) -> Path:
        """check_output with this set's rules (and the targets already taken)."""
        path = check_output(target, force=self.force, inputs=self.inputs, corpus=self.corpus,
                            append=append)
        if any(_real(path) == t for _, t, _ in self._pending):
            raise ConfigError(f"{path} is written twice by this command",
                              hint="give -o another file name")
        return path

    def path(self, target: str | os.PathLike, *, append: bool = False) -> Path:
        """The temporary file to write in place of ``target`` (created empty, or holding
        the target's bytes when ``append`` and it exists)."""
        path = self.check(target, append=append)
        real = _real(path)
        try:
            fd, name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
        except OSError as exc:
            raise ConfigError(f"cannot write {path}: {os_reason(exc)}",
                              hint="check that the folder exists and is writable") from None
        os.close(fd)
        tmp = Path(name)
        self._pending.append((tmp, real, append))
        try:
            if real.exists():
                shutil.copymode(real, tmp)
                if append:
                    shutil.copyfile(real, tmp)
            else:
                mask = os.umask(0)
                os.umask(mask)
                os.chmod(tmp, 0o666 & ~mask)
        except OSError as exc:
            self.discard()
            raise ConfigError(f"cannot write {path}: {os_reason(exc)}") from None
        return tmp

    def commit(self) -> None:
        """Rename every temporary file over its target (checked once more first: a file
        that appeared meanwhile is not replaced without ``force``)."""
        try:
            for _tmp, target, append in self._pending:
                check_output(target, force=self.force, inputs=self.inputs, corpus=self.corpus,
                             append=append)
            for tmp, target, _ in self._pending:
                os.replace(tmp, target)
        except OSError as exc:
            self.discard()
            raise ConfigError(f"cannot write {exc.filename or 'the output'}: "
                              f"{os_reason(exc)}") from None
        except BaseException:
            self.discard()
            raise
        self._pending = []

    def discard(self) -> None:
        """Remove the temporary files; the targets stay as they were."""
        for tmp, _, _ in self._pending:
            try:
                tmp.unlink()
            except OSError:
                pass
        self._pending = []

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


@contextmanager
def safe_output(target: str | os.PathLike, *, force: bool = False,
                inputs: Iterable[str | os.PathLike | None] = (),
                corpus: Iterable[str | os.PathLike | None] = (),
                append: bool = False) -> Iterator[Path]:
    """One file written all or nothing: yields the temporary path to write."""
    with Outputs(force=force, inputs=inputs, corpus=corpus) as out:
        yield out.path(target, append=append)
