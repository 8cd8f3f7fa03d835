-- The event log: the only source of truth for job state (DESIGN.md, Events).
-- One stream per job; `version` numbers a stream's events 1, 2, 3, ... and the unique
-- constraint is the optimistic-concurrency check of append (expected version).
create table job_events (
  position    bigint generated always as identity primary key,
  job_id      uuid        not null,
  version     integer     not null check (version >= 1),
  type        text        not null check (type in (
                'JobQueued', 'ExecutionStarted', 'ExecutionOutput', 'ExecutionProgress',
                'ExecutionSucceeded', 'ExecutionFailed', 'JobRetryRequested',
                'JobCancelRequested', 'JobCancelled', 'ExecutionAbandoned')),
  data        jsonb       not null,
  occurred_at timestamptz not null,
  unique (job_id, version)
);

-- `aidp jobs replay --since/--until`: events by time.
create index job_events_occurred_at on job_events (occurred_at);
