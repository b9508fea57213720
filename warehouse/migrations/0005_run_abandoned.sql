-- A run killed before it finished is marked abandoned by the next run, which holds the run lock
-- (pipeline/runtime/runs.py); a build counts as succeeded once its exports are published.
comment on column meta.runs.status is 'running; succeeded (a build: once its exports are published); failed; or abandoned (killed before it finished, marked by the next run).';
comment on column meta.runs.finished_at is 'When it ended; for an abandoned run, when the next run found it. NULL while running.';
