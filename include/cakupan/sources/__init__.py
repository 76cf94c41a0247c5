"""Source systems: contracts, readers, extraction and API clients.

* `contracts`: source contracts declared as YAML in `cakupan/contracts/` (docs/CONTRACTS.md);
* `readers`: safe reading of xlsx/xls/ods (python-calamine) and CSV files as numbered rows;
* `extract`: `extract_file(path, contract)` -> typed, region-resolved rows or rejects;
* `cli`: `cakupan sources list|check`;
* `errors`: `SourceFileError` (a whole file refused), `ContractError`;
* `bps`, `ckan`, `http`: API clients.

Nothing here imports Airflow; only the API clients use the network, and nothing here uses a
database (the landing is `cakupan.landing`).
"""
