"""The storage format of the DuckDB files analysts open."""

# DuckDB 2.0 writes storage version 69 by default; the DuckDB 1.4 and 1.5 that analysts run read
# up to 68. Their copy is written in 1.4's format, which 2.0 reads too.
ANALYST_STORAGE_VERSION = "v1.4.0"
