-- Retry policy that knows the agent CLI retried (issue 7): the jobs row carries what the
-- decider needs and what people read about the next run.

-- JobQueued `retry_timeouts` (`--retry-timeouts`): the decider's state, read by
-- src/projections/commandHandler.ts loadState. Jobs queued before it never retried timeouts
-- automatically on their own flag, so false.
alter table jobs add column retry_timeouts boolean not null default false;
-- JobRetryRequested `reason` of the policy retry that queued the job again ("rate limit,
-- claude asked for 38 s"); null when a person retried it or it never failed. Shown with
-- run_at by `aidp jobs show` and the monitor.
alter table jobs add column retry_reason text;
