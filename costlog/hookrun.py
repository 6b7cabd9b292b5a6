"""Forwarder: git shims installed by earlier versions run `python -m costlog.hookrun`."""

from __future__ import annotations

from costlog.integration.hookrun import main

if __name__ == "__main__":
    main()
