-- The as-of date of the build: a build with --as-of D sees only what was known on D. Unset (the
-- analyst copy sets no variables): all the data.
coalesce(getvariable('as_of'), date '9999-12-31')
