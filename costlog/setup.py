"""`costlog init`: set a repo up (config with commented defaults, a first COST_LOG.md)."""

from __future__ import annotations

from costlog import config as config_mod
from costlog import render
from costlog.ledger import atomic_write
from costlog.repo import Repo


def init(repo: Repo) -> list[str]:
    """Idempotent: files that exist are left as they are. Returns what it did, a line each."""
    done: list[str] = []
    path = repo.root / config_mod.CONFIG_PATH
    if path.exists():
        done.append(f"kept {config_mod.CONFIG_PATH}")
    else:
        atomic_write(path, config_mod.DEFAULT_TEXT)
        done.append(f"wrote {config_mod.CONFIG_PATH}")
    config = config_mod.load(repo.root)
    ledger_dir = config.ledger_path(repo.root)
    keep = ledger_dir / ".gitkeep"
    if not ledger_dir.exists():
        ledger_dir.mkdir(parents=True)
        keep.touch()
        done.append(f"made {config.ledger_dir}/")
    result = render.render(repo, config)
    done.append(f"{'wrote' if result.old is None else 'rendered'} {config.output}")
    done.append("next: record a session with `costlog record --model MODEL --tasks N`")
    return done
