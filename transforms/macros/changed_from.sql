-- The first session of any ticker whose bar changed since the last build: no row before it is
-- derived again. The earliest date where no change set is given (a full build); the latest where
-- nothing changed.
case
    when getvariable('changed') is null then date '0001-01-01'
    else coalesce(list_min(map_values(getvariable('changed'))), date '9999-12-31')
end
