-- Permissions per job and the tool calls an agent was refused (issue 7 item 5).
-- The defaults only fill rows written before this migration; the projection writes every
-- value from the events (JobQueued without permissions is read as 'edit', as here).

-- What the job's agent may do (JobQueued.permissions): plan reads only, edit edits files,
-- full also runs commands.
alter table jobs add column permissions text not null default 'edit'
  check (permissions in ('plan', 'edit', 'full'));
-- How many tool calls the job's latest execution was refused (ExecutionSucceeded.denials):
-- the list and the monitor mark a completed job with it (⚠ 2 denied). 0 when none.
alter table jobs add column denied integer not null default 0;

-- The refused tool calls of an execution, [{tool, target}] (ExecutionSucceeded.denials);
-- null when there were none.
alter table job_executions add column denials jsonb;
