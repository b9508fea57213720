"""Ingesting: a source's payloads read, validated as one batch and loaded into the warehouse's raw
tables, or refused in one line and quarantined."""
