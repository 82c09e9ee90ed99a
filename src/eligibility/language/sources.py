"""Where rules files come from: the disk, git history or memory, behind one small interface.

A rules file names its later versions relative to itself, so a source also says how a path
is resolved against another. `source_for(spec)` picks the source a command-line name calls for:
`git:REV:path` reads from git history, anything else from the disk.
"""
from __future__ import annotations

import os
import subprocess
from typing import Mapping, Protocol

from eligibility.core.errors import InputError, Problem
from eligibility.language.yamlsafe import max_bytes, read_text

GIT_PREFIX = "git:"


class RulesSource(Protocol):
    """Reads rules files by name."""

    def text(self, path: str) -> str:
        """The file's text; InputError when it cannot be read."""

    def exists(self, path: str) -> bool:
        """Whether `path` names a file this source can read."""

    def resolve(self, base: str, relative: str) -> str:
        """The name of `relative`, written inside the file `base`."""


class FileSource:
    """Rules files on the disk (size, encoding and file-type limits of yamlsafe.read_text)."""

    def text(self, path: str) -> str:
        return read_text(path)

    def exists(self, path: str) -> bool:
        return os.path.isfile(path)

    def resolve(self, base: str, relative: str) -> str:
        return os.path.normpath(os.path.join(os.path.dirname(base), relative))


class GitSource:
    """Rules files at a revision of the git repository of the current directory: `git:REV:path`."""

    def text(self, path: str) -> str:
        rev, rel = _split(path)
        return read_text(path, git_show(rev, rel, path))

    def exists(self, path: str) -> bool:
        return True            # reading it says precisely what is wrong

    def resolve(self, base: str, relative: str) -> str:
        rev, rel = _split(base)
        return f"{GIT_PREFIX}{rev}:{os.path.normpath(os.path.join(os.path.dirname(rel), relative))}"


class MemorySource:
    """Rules files held in memory, by name (tests, notebooks, a service)."""

    def __init__(self, files: Mapping[str, str]):
        self.files = dict(files)

    def text(self, path: str) -> str:
        if path not in self.files:
            raise InputError(Problem(path, 0, 0, "no such rules file"))
        return self.files[path]

    def exists(self, path: str) -> bool:
        return path in self.files

    def resolve(self, base: str, relative: str) -> str:
        return os.path.normpath(os.path.join(os.path.dirname(base), relative))


def source_for(spec: str) -> RulesSource:
    """The source a rules file name calls for: git history for `git:REV:path`, else the disk."""
    return GitSource() if spec.startswith(GIT_PREFIX) else FileSource()


def _split(spec: str) -> tuple[str, str]:
    rev, sep, path = spec[len(GIT_PREFIX):].partition(":")
    if not spec.startswith(GIT_PREFIX) or not sep or not rev or not path:
        raise InputError(Problem(spec, 0, 0, "expected git:REV:path, e.g. git:HEAD~1:rules/program.yaml"))
    if rev.startswith("-"):
        raise InputError(Problem(spec, 0, 0, f"not a git revision: {rev!r}"))
    return rev, path


def git_show(rev: str, path: str, spec: str) -> bytes:
    """The bytes of `path` at revision `rev` (`git show REV:./path`)."""
    rel = path if path.startswith(("./", "../")) else "./" + path
    try:
        # the size first: a blob over the input limit is refused before it is read into memory
        size = subprocess.run(["git", "cat-file", "-s", f"{rev}:{rel}"], capture_output=True, timeout=60)
        limit = max_bytes()
        if size.returncode == 0 and size.stdout.strip().isdigit() and int(size.stdout) > limit:
            raise InputError(Problem(spec, 0, 0, f"file is {int(size.stdout)} bytes, over the limit of {limit} "
                                                 "(set ELIGIBILITY_MAX_INPUT_BYTES to change it)"))
        done = subprocess.run(["git", "show", f"{rev}:{rel}"], capture_output=True, timeout=60)
    except FileNotFoundError:
        raise InputError(Problem(spec, 0, 0, "cannot read from git: the git command is not installed")) from None
    except subprocess.TimeoutExpired:
        raise InputError(Problem(spec, 0, 0, "git show did not answer within 60 s")) from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = lines[0].removeprefix("fatal: ") if lines else f"exit status {done.returncode}"
        raise InputError(Problem(spec, 0, 0, f"cannot read from git: {why}"))
    return done.stdout
