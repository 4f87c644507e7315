"""What salespipe reads from the source folder (SALESPIPE_SOURCE_DIR), often a shared drop
folder: only files inside it.

A file pattern (a source module's, or a `file:` in generic/mapping.yml) is relative, without
`..`; each file it finds must be a plain file whose path within the folder has no symbolic link
(a linked file or a linked sub-folder), unless SALESPIPE_ALLOW_LINKS_INSIDE is true, and then
the link's target must still be inside the folder; its name must be UTF-8. A refusal names the
file and the rule, and nothing of that source object is loaded (README, Security).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from orchestration.ingest.loader import IngestError
from orchestration.settings import SettingsError, allow_links_inside

LINKS_SETTING = "SALESPIPE_ALLOW_LINKS_INSIDE"


class DropFolderError(IngestError):
    """A pattern or a file reaches outside the source folder, or is a link salespipe does not
    follow; the message names it and the rule."""


def check_pattern(pattern: object, where: str) -> str:
    """`pattern` if it can only match files below the folder; `where` names its setting."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise DropFolderError(f"{where}: a file pattern must be a file name such as "
                              f"deals*.csv, got {pattern!r}")
    parts = PurePosixPath(pattern.replace("\\", "/")).parts
    if pattern.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:[\\/]", pattern):
        raise DropFolderError(f"{where}: the file pattern {pattern!r} is absolute; patterns are "
                              "relative to the source folder (e.g. deals*.csv)")
    if ".." in parts:
        raise DropFolderError(f"{where}: the file pattern {pattern!r} goes up with '..'; "
                              "salespipe reads only files inside the source folder")
    return pattern


def readable(path: Path, root: Path) -> Path:
    """`path` (found under `root`, the source folder) when salespipe may read it."""
    shown = _shown(path)
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise DropFolderError(f"{shown}: the file name is not UTF-8 text; rename the file "
                              "(e.g. from a terminal with the same locale as its sender)") from None
    rel = path.relative_to(root)
    links = [root.joinpath(*rel.parts[:i + 1]) for i in range(len(rel.parts))
             if root.joinpath(*rel.parts[:i + 1]).is_symlink()]
    if not links:
        return path
    try:
        allowed = allow_links_inside()
    except SettingsError as exc:
        raise DropFolderError(str(exc)) from None
    what = "is a symbolic link" if links[-1] == path else f"is in {links[-1]}, a linked folder"
    if not allowed:
        raise DropFolderError(
            f"{shown}: {what}; salespipe reads no links in the source folder {root}. Put the "
            f"file itself there, or set {LINKS_SETTING}=true to follow links that stay inside it")
    target = path.resolve()
    if not target.is_relative_to(root.resolve()):
        raise DropFolderError(f"{shown}: {what} to {target}, outside the source folder {root}; "
                              "salespipe reads only files inside it")
    return path


def _shown(path: Path) -> str:
    """The path printable even when its name is not UTF-8 (bytes shown as \\xNN)."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
