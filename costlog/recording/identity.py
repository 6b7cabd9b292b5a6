"""Who records an entry and where: its `author` and `machine`, private by default.

A ledger is committed and often public, so what is stored is the config's choice:
- `people:` `name` (git's user.name, the default), `email` (user.email), `hash` (12 hex
  digits of sha256 over the lower-cased e-mail: the same person in every repo and clone,
  but no address to read) or `none`;
- `machine:` `hash` (the default: 12 hex digits of sha256 over a random id created once in
  the user's config dir, so the same machine always, and nothing about it), `hostname`
  (socket.gethostname(), in clear) or `none`.
Only a configured git identity is used: git's own guess from the login and host name
would leak the machine's name through the author.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from costlog import gitrepo
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.ledger.format import AUTHOR_BAD, AUTHOR_MAX, MACHINE_NAME
from costlog.models import Entry

#: hex digits kept of a sha256: unique enough for a team, short enough for a table cell
HASH_DIGITS = 12
#: the machine id file, under $XDG_CONFIG_HOME (else ~/.config)
MACHINE_ID_FILE = Path("costlog") / "machine-id"
_NOT_HOST = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Identity:
    author: str | None = None
    machine: str | None = None


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_DIGITS]


def current(repo: Repo, config: Config, env: Mapping[str, str] | None = None) -> Identity:
    """Who records now and on which machine, as the config says to store them. Asks git
    only when the author is to be stored; never fails a record (nothing is stored instead)."""
    environ = os.environ if env is None else env
    return Identity(author_of(repo, config.people), machine_of(config.machine, environ))


def stamp(entry: Entry, identity: Identity) -> Entry:
    """Fill in what the entry does not say already (a builder or caller may have set it)."""
    entry.author = entry.author or identity.author
    entry.machine = entry.machine or identity.machine
    return entry


def author_of(repo: Repo, people: str) -> str | None:
    if people == "none":
        return None
    try:
        name, email = gitrepo.user_identity(repo.root)
    except CostlogError:  # no git on PATH: the entry has no author
        return None
    if people == "hash":
        return short_hash(email.strip().lower()) if email.strip() else None
    return clean_author(email if people == "email" else name)


def clean_author(text: str) -> str | None:
    """One plain line the ledger reader accepts: controls dropped, spaces collapsed, cut
    to AUTHOR_MAX characters; None when nothing is left."""
    text = " ".join(AUTHOR_BAD.sub(" ", text).split())[:AUTHOR_MAX].strip()
    return text or None


def machine_of(machine: str, env: Mapping[str, str]) -> str | None:
    if machine == "none":
        return None
    if machine == "hostname":
        import socket

        host = _NOT_HOST.sub("-", socket.gethostname()).strip("-._")
        return host if MACHINE_NAME.fullmatch(host) else None
    machine_id = read_machine_id(env)
    return short_hash(machine_id) if machine_id else None


def machine_id_path(env: Mapping[str, str]) -> Path:
    xdg = env.get("XDG_CONFIG_HOME")
    if xdg and Path(xdg).is_absolute():  # the XDG rule: a relative value is ignored
        return Path(xdg) / MACHINE_ID_FILE
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".config" / MACHINE_ID_FILE


def read_machine_id(env: Mapping[str, str]) -> str | None:
    """This machine's random id, created on first use (so two clones on one machine share
    it, and it survives a new repo); None when the config dir can be neither read nor
    written (the entry then has no machine)."""
    path = machine_id_path(env)
    for _attempt in range(2):
        empty = False
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read(256).strip()
            if text:
                return text
            empty = True  # truncated (a full disk, say): made again, not left blank
        except FileNotFoundError:
            pass
        except (OSError, UnicodeDecodeError):
            return None
        if not _create(path, replace=empty):
            return None
    return None


def _create(path: Path, *, replace: bool = False) -> bool:
    """Write a new random id, whole or not at all: written aside, then linked into place,
    which fails when another recorder got there first (its id is kept); with `replace`,
    moved over the empty file there."""
    import secrets

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(16) + "\n")
        try:
            if replace:
                os.replace(tmp, path)
            else:
                os.link(tmp, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return True
