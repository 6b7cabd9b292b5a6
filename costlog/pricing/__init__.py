"""What a model's tokens cost: the dated price table and how one request is charged.

The table ships in `costlog/data/prices.yaml` (authored, dated, sourced) compiled to
`prices.json` (`build`), and a repo's `.costlog/prices.yaml` of the same shape wins over it.
Prices only ever gain dated entries, so every session is priced as of its own date.

The modules:
- `rates`: the table's model (a model's dated rates, long-context tiers, `Plan`);
- `schema`: reading a table document into that model, each bad value named;
- `names`: model ids as logs write them, reduced to the table's names;
- `table`: `PriceTable`, loading (bundled + override) and lookups, the plan of a request;
- `requests`: a session's requests priced one by one and summed per model;
- `view`: `costlog pricing list|show` text; `litellm`: `costlog pricing import litellm`;
- `build`: compiling prices.yaml into prices.json.

Callers import from the module that owns a name (`from costlog.pricing.table import
PriceTable`).
"""
