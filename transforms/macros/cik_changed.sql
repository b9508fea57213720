-- Whether company `cik` had a fact or filing loaded since the last build (the build's
-- `changed_ciks`); true for every company where it is unset: a full build.
getvariable('changed_ciks') is null or list_contains(getvariable('changed_ciks'), cik)
