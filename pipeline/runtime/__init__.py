"""What every run stands on: settings and the data directory's layout, the clock and the trading
and EDGAR calendars, the run lock and meta.runs, the errors a run expects, and how steps run."""
