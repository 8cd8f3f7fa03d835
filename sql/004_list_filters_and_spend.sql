-- Indexes for `aidp jobs list --cwd/--step` and the monitor's spend of the day (issue 5).

-- `aidp jobs list --cwd DIR --step S` (newest first, keyset on created_at, id) and
-- `aidp execute`'s latest job per step (distinct on step ... order by step, created_at desc,
-- id desc): replaces 002's jobs_cwd_step, which lacked the id tiebreaker.
drop index if exists jobs_cwd_step;
create index jobs_cwd_step on jobs (cwd, step, created_at desc, id desc);
-- `aidp jobs list --cwd DIR`: one project's jobs newest first, whatever their step.
create index jobs_cwd_created on jobs (cwd, created_at desc, id desc);
-- `aidp jobs list --step S`: one step's jobs newest first, across projects.
create index jobs_step_created on jobs (step, created_at desc, id desc) where step is not null;

-- Monitor title line, today's spend (src/projections/queries.ts spendSince):
--   select sum(cost_usd), count(*) from job_executions
--   where completed_at >= $start_of_today and cost_usd is not null
-- an index-only range scan over the executions that ended today, never over history.
create index job_executions_cost_completed on job_executions (completed_at) include (cost_usd)
  where cost_usd is not null;
