-- Isolated runs and what they changed (issue 11): a `--worktree` job runs in a git worktree of
-- its own, and every ending execution records what it changed (ExecutionChanges). The
-- summaries come from the events; the full diff stays in git and is read on demand.

-- The latest ExecutionChanges summary of an execution: {repo, base, head, worktree?,
-- approximate?, files: [{path, status, added, removed}], file_count, lines_added,
-- lines_removed} (src/domain/changes.ts). Null when none was recorded.
alter table job_executions add column changes jsonb;
-- The job's latest summary without its file list (the list and the monitor show its totals):
-- one row read per listed job, no join.
alter table jobs add column changes jsonb;
-- Where the job's worktree stands: null (none recorded), open, merged or removed
-- (ExecutionChanges with a worktree, WorktreeMerged, WorktreeRemoved). `aidp jobs clean`
-- reads it with the job's status and completed_at; the decider's state reads it (loadState).
alter table jobs add column worktree_state text check (worktree_state in ('open', 'merged', 'removed'));

-- The new event types (ExecutionChanges, WorktreeMerged, WorktreeRemoved) join the log's list
-- of types. The list is read from the constraint as it stands and extended, so a migration
-- before this one that added types of its own keeps them.
do $$
declare
  types text[];
begin
  select array_agg(m[1]) into types
  from pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([A-Za-z]+)''', 'g') as m
  where c.conrelid = 'job_events'::regclass and c.conname = 'job_events_type_check';
  types := array(select distinct t from unnest(types || array['ExecutionChanges', 'WorktreeMerged', 'WorktreeRemoved']) as t order by t);
  alter table job_events drop constraint job_events_type_check;
  execute format('alter table job_events add constraint job_events_type_check check (type = any (%L::text[]))', types);
end $$;

-- `aidp jobs clean`: finished jobs whose worktree is still there, oldest first.
create index jobs_worktree_finished on jobs (completed_at) where worktree_state in ('open', 'merged');
