-- Fiscal quarters run 12 to 14 weeks, or three calendar months: Costco's year is 12, 12, 12 and 16
-- weeks, so its half year is 24 weeks (167 days) and its nine months 36 weeks (251 days); a 53-week
-- year adds a week to one quarter.
case
    when days between 83 and 98 then 1
    when days between 167 and 190 then 2
    when days between 251 and 280 then 3
    when days between 357 and 378 then 4
end
