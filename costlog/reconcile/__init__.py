"""The ledger's estimates against the provider's bill, from exported files, offline.

The modules:
- `bills`: reading one export file, its shape detected, into `BillRow`s (`rows`); one module
  per family of formats: `api_json` (API pages), with `anthropic_export` and
  `openai_export` for their results, and `console_csv`;
- `compare`: joining ledger and bill by UTC day and model, the gaps and correction factors;
- `report`: the comparison as text or JSON.

`costlog reconcile` (costlog.commands.reconcile) loads the ledger and calls these.
"""
