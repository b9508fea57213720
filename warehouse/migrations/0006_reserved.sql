-- Number 0006 is taken by a change on another branch; this placeholder keeps the numbers without
-- a gap until that change is merged, when it replaces this file.
select 1;
