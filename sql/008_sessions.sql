-- Agent sessions (issue 7 item 4, "resume instead of restart"): every execution records the
-- agent's session, and a retry continues it. The defaults only fill rows written before this
-- migration (their events carry no session); the projection writes every value from the events.

-- The agent's session id: chosen up front or resumed (ExecutionStarted.session_id), replaced by
-- the one the CLI reported (ExecutionSucceeded/ExecutionFailed.session_id). Null when unknown.
-- The last execution's is what a retry resumes (src/projections/commandHandler.ts loadState).
alter table job_executions add column session_id text;
-- The attempt whose session this execution resumed (ExecutionStarted.resumed_attempt); null
-- for a fresh start.
alter table job_executions add column resumed_attempt integer;
-- The resumed session was gone and the execution started fresh instead (session_gone).
alter table job_executions add column session_gone boolean not null default false;

-- The pending retry asked for a fresh start (JobRetryRequested.fresh, `aidp jobs retry
-- --fresh`): the decider's state, cleared when the next execution starts.
alter table jobs add column retry_fresh boolean not null default false;
