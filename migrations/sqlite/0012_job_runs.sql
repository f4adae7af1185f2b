-- Which node ran each background job, how often, and when last: one row per job and node. With
-- several nodes only the holder of the jobs' lease runs them; this shows it (and the tests check it).
CREATE TABLE job_runs (
    job          TEXT    NOT NULL,
    node         TEXT    NOT NULL,
    runs         BIGINT  NOT NULL,
    last_run_at  BIGINT  NOT NULL,
    PRIMARY KEY (job, node)
);
