-- Per-provider concurrency (AIDP_<PROVIDER>_CONCURRENCY): each worker process records the
-- limits it enforces, so the monitor can say why a queued job waits ("waiting: claude limit 2").
-- The claim itself counts running jobs (src/workers/claimer.ts); this column only reports.
alter table workers add column concurrency jsonb not null default '{}'::jsonb;
