"""The core: the whole run (`daily`), a rebuild from the raw zone (`rebuild`) and the checks made
before either starts (`preflight`), over its layers, each importing only those below it:

- `build`: the SQL models, validation of the marts, the claims, the report and publishing;
- `ingest`: payloads into the warehouse's raw tables, each batch validated;
- `sources`: the live and recorded clients of Yahoo Finance and SEC EDGAR;
- `payloads`: the raw zone and the seed files, and what reads them;
- `runtime`: settings and the data directory, the clock, calendars, run bookkeeping, errors and
  how steps run.
"""
