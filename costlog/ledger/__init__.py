"""The ledger: one YAML file per session, committed in the repo, the source of truth.

- `store`: the `Ledger` of a repo: each session's file, the lock, reading and writing;
- `format`: an entry as its file's mapping and back, validating every field;
- `names`: which file name an id gets; `cache`: the parse cache; `atomic`: safe writes;
- `verify`: re-deriving every cost from its tokens; `check`: what `costlog check` refuses.
"""
