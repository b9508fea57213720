-- Oracle's Aug 31 quarter is 2025Q3; NVIDIA's late-January quarter is Q4 of the year before.
year(period_end - 45) || 'Q' || quarter(period_end - 45)
