"""The build: the SQL models, the marts' validation, the claims scored now and week by week, and the
publishing of parquet, the report and the analyst copy."""
