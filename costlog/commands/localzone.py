"""The machine's own time zone, the default of the terminal views (`scan`, `report`), as in
git and ccusage. COST_LOG.md never uses it: every clone must render the same file, so it
keeps the config's one zone."""

from __future__ import annotations

import os
from datetime import UTC, datetime, tzinfo


def local_zone() -> tzinfo:
    """`$TZ` when it names an IANA zone, else the zone `/etc/localtime` is (by its link's
    name, or read from the file), else the offset in force now: fixed, so it is wrong only
    across a change of daylight saving time, on a machine that gives no zone at all."""
    from zoneinfo import ZoneInfo

    names = [os.environ.get("TZ", "").lstrip(":")]
    try:
        link = os.readlink("/etc/localtime")
    except OSError:
        link = ""
    if "zoneinfo/" in link:
        names.append(link.split("zoneinfo/", 1)[1])
    for name in names:
        if name:
            try:
                return ZoneInfo(name)
            except (ValueError, OSError, LookupError):  # not a zone name (a POSIX TZ rule)
                continue
    if not names[0]:
        try:
            with open("/etc/localtime", "rb") as handle:
                return ZoneInfo.from_file(handle, key="localtime")
        except (OSError, ValueError):
            pass
    return datetime.now().astimezone().tzinfo or UTC
