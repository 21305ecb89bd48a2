"""The landing folder as a boundary: which files wait in it, what may be read, where a rejected file goes.

A feed's files wait in landing/<feed>/ and its source folders
(landing/<feed>/<source>/, one merchant system's exports with the mapping.yaml
that translates them). Nothing outside the folder is read: a symbolic link, a
file in a linked folder or a path leading out is rejected on its path alone,
never followed. A rejected file moves to landing/rejected/<feed>[/<source>]/
with its reason beside it, outside the feed folders so nothing there is read
again. `feeds.ingest` loads what this module lets in.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from feeds.landed import display_name, safe_text

MAPPING_FILE = "mapping.yaml"
REJECTED_FOLDER = "rejected"


def landing_files(landing: Path, feed: str) -> list[Path]:
    """Files waiting in landing/<feed>/ and its source folders, in path order.

    A source folder (landing/<feed>/<source>/) holds one merchant system's
    exports and the mapping.yaml that translates them; the mapping files
    themselves are not feed files. Rejected files live in landing/rejected/.
    Symbolic links are never listed nor followed (`landing_links` lists them).
    """
    folder = landing / feed
    if folder.is_symlink() or not folder.is_dir():
        return []
    candidates = [p for p in folder.iterdir() if p.is_file() and not p.is_symlink()]
    for source in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
        candidates += [p for p in source.iterdir() if p.is_file() and not p.is_symlink() and p.name != MAPPING_FILE]
    return sorted(p for p in candidates if _waiting(p))


def landing_links(landing: Path, feed: str) -> list[Path]:
    """Symbolic links where landing/<feed>/ would read a file or a source folder, in path order.

    Landing is a boundary: a link could bring in a file from anywhere on the
    machine (a system file, another merchant's export). Each link is
    rejected once, without being followed, and moved to landing/rejected/.
    """
    folder = landing / feed
    if folder.is_symlink():
        return [folder]
    if not folder.is_dir():
        return []
    links = [p for p in folder.iterdir() if p.is_symlink()]
    for source in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
        links += [p for p in source.iterdir() if p.is_symlink()]
    return sorted(p for p in links if _waiting(p))


def _waiting(path: Path) -> bool:
    return not path.name.startswith(".") and not path.name.endswith(".reason.txt")


def mapping_for(path: Path, feed: str) -> Path | None:
    """The mapping.yaml of the file's source folder, if it lives in one."""
    candidate = path.parent / MAPPING_FILE
    return candidate if path.parent.name != feed and candidate.exists() else None


def rejected_folder(path: Path, feed: str) -> Path:
    """landing/rejected/<feed>[/<source>]/ for a file of landing/<feed>[/<source>]/.

    Outside the feed folders, so nothing there is read again, and a landed
    file that happens to be called "rejected" cannot collide with it.
    """
    feed_folder = next((p for p in path.parents if p.name == feed), path.parent)
    relative = path.parent.relative_to(feed_folder)
    return feed_folder.parent / REJECTED_FOLDER / feed / relative


def move_to_rejected(path: Path, file_id: str, message: str, feed: str) -> Path:
    """Move a rejected file (its bytes' SHA-256 `file_id`) out of the landing folder, with the reason `message` beside it."""
    folder = rejected_folder(path, feed)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}.{file_id[:8]}{path.suffix}"
        if len(os.fsencode(target.name)) > 240:  # the longer name would not fit a file name
            target = folder / f"{file_id[:16]}{path.suffix[:16]}"
    shutil.move(str(path), target)
    reason_name = target.name + ".reason.txt"
    if len(os.fsencode(reason_name)) > 240:  # longer than a file name may be
        reason_name = f"{file_id[:16]}.reason.txt"
    (folder / reason_name).write_text(
        f"file: {display_name(path)}\nsha256: {file_id}\nrejected because: {safe_text(message)}\n"
        "Fix the file and drop it into the landing folder again.\n",
        encoding="utf-8",
    )
    return target


def outside_problem(path: Path, feed: str) -> str | None:
    """Why `path` must not be read, or None: it is a link, lies in a linked folder, or leads out of the landing folder.

    Decided on the path alone, before anything is opened; the reason never
    names where a link points, so nothing of the target reaches the ledger,
    the reason file, the run storage or the logs.
    """
    feed_folder = next((p for p in path.parents if p.name == feed), None)
    inside = [p for p in path.parents if feed_folder is not None and (p == feed_folder or feed_folder in p.parents)]
    if path.is_symlink():
        return f"{display_name(path)} is a symbolic link; crossdock reads only files inside the landing folder, so it was not followed"
    if any(p.is_symlink() for p in inside):
        return f"{display_name(path)} lies in a linked folder; crossdock reads only files inside the landing folder, so it was not followed"
    if feed_folder is not None and not path.resolve().is_relative_to(feed_folder.parent.resolve()):
        return f"{display_name(path)} leads outside the landing folder; crossdock reads only files inside it"
    return None


def link_date(path: Path) -> dt.date:
    """The day a link was put in landing (its own modification time): a link's target is never looked at."""
    return dt.datetime.fromtimestamp(path.lstat().st_mtime, tz=dt.timezone.utc).date()
