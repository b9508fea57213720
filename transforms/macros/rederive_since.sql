-- The first session of `ticker` whose bar changed since the last build (the build's `changed`
-- variable, a map); the earliest date for every ticker where it is unset: a full build.
case
    when getvariable('changed') is null then date '0001-01-01'
    else getvariable('changed')[ticker]
end
