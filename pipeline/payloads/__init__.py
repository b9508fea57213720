"""Payloads: the raw zone, where each is kept as received, the committed seed files, and what reads
them (price files, SEC bodies, seeds) into frames."""
