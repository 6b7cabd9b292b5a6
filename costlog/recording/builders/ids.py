"""Ids for sessions whose agent gave them none (a record by hand, an estimate)."""

from __future__ import annotations

import secrets
from datetime import datetime


def new_id(started: datetime) -> str:
    """`20261120T091500Z-a1b2c3`: the start time, readable and sortable, plus 6 random hex
    digits so that two sessions recorded in the same second still get two files."""
    return f"{started.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
