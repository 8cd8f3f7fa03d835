-- Workflows (issue 10; DESIGN.md, Workflow): a workflow is its own event stream, beside the
-- jobs' streams. `version` numbers a workflow's events 1, 2, 3, ... and the unique constraint
-- is the optimistic-concurrency check of its append (expected version), so a pause or a
-- completion decided by two process managers at once is recorded once.
create table workflow_events (
  -- Drawn from job_events' sequence (set below): one total order over both logs.
  position    bigint      primary key,
  workflow_id uuid        not null,
  version     integer     not null check (version >= 1),
  type        text        not null check (type in (
                'WorkflowStarted', 'WorkflowPaused', 'WorkflowResumed', 'WorkflowCompleted', 'WorkflowCancelled')),
  data        jsonb       not null,
  occurred_at timestamptz not null,
  unique (workflow_id, version)
);
do $$
begin
  execute format('alter table workflow_events alter column position set default nextval(%L::regclass)',
    pg_get_serial_sequence('job_events', 'position'));
end
$$;

-- The read model of a workflow: its state folded from its stream (src/domain/workflow.ts),
-- written in the same transaction as the append. Its row is also the lock every writer of
-- the workflow takes (FOR UPDATE): the process manager's enqueue of a step job and a cancel
-- cannot cross.
create table workflows (
  id           uuid        primary key,
  cwd          text        not null,
  status       text        not null check (status in ('running', 'paused', 'completed', 'cancelled')),
  -- The steps as started: [{name, document, prompt, provider, model, permissions}].
  steps        jsonb       not null,
  -- Index into `steps` of the step it paused at (null unless paused).
  paused_step  integer,
  -- Why it paused: the step job's error, or "paused by user".
  paused_reason text,
  version      integer     not null,
  created_at   timestamptz not null,
  updated_at   timestamptz not null,
  last_position bigint     not null
);

-- `aidp execute --list`, pause/resume/cancel: a project's latest workflow.
create index workflows_cwd_created on workflows (cwd, created_at desc, id);
-- At most one unfinished workflow per project: `aidp execute all` refuses a second one.
create unique index workflows_one_unfinished_per_cwd on workflows (cwd) where status in ('running', 'paused');
-- The process manager's re-sync (start, reconnect): every unfinished workflow.
create index workflows_unfinished on workflows (status) where status in ('running', 'paused');
