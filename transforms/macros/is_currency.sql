-- A money figure is read only from an ISO 4217 currency code (USD, TWD, EUR), never from shares,
-- pure or a filer's own unit.
regexp_full_match(unit, '[A-Z]{3}')
