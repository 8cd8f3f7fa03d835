-- Read models, written only by the projections (src/projections) in the append
-- transaction. Every value comes from an event (no now(), no defaults that depend on
-- when a row is written) so that a rebuild from job_events reproduces them exactly.

create table jobs (
  id                   uuid primary key,
  provider             text        not null check (provider in ('claude', 'gemini', 'cursor')),
  model                text,
  status               text        not null check (status in ('queued', 'running', 'completed', 'failed', 'cancelled')),
  step                 text,
  prompt_summary       text        not null,
  cwd                  text        not null,
  priority             integer     not null,
  max_attempts         integer     not null,
  timeout_ms           integer     not null,
  run_at               timestamptz not null,
  created_at           timestamptz not null,
  started_at           timestamptz,
  completed_at         timestamptz,
  duration_ms          bigint,
  error                text,
  error_kind           text,
  attempts             integer     not null default 0,
  current_execution_id uuid,
  cancel_requested     boolean     not null default false,
  progress             text,
  metadata             jsonb       not null,
  version              integer     not null,
  last_position        bigint      not null
);

-- Monitor and `jobs list --status`: newest first within a status (keyset on created_at, id).
create index jobs_status_created on jobs (status, created_at desc, id desc);
-- Monitor "Recently completed" / "Failed": latest finished first.
create index jobs_status_completed on jobs (status, completed_at desc, id desc);
-- Claimer: the next runnable queued job (see src/workers/claimer.ts).
create index jobs_claim on jobs (priority desc, run_at, created_at, id) where status = 'queued';
-- `aidp execute`: the jobs of one project directory and step.
create index jobs_cwd_step on jobs (cwd, step, created_at desc);

create table job_executions (
  id           uuid primary key,
  job_id       uuid        not null references jobs (id),
  attempt      integer     not null,
  status       text        not null check (status in ('running', 'succeeded', 'failed', 'cancelled', 'abandoned')),
  worker_id    text        not null,
  host         text        not null,
  pid          integer     not null,
  argv         jsonb       not null,
  cli_version  text,
  started_at   timestamptz not null,
  completed_at timestamptz,
  duration_ms  bigint,
  exit_code    integer,
  signal       text,
  error        text,
  error_kind   text,
  result       text,
  usage        jsonb,
  cost_usd     numeric,
  unique (job_id, attempt)
);

create table job_logs (
  job_id       uuid        not null references jobs (id),
  seq          bigint      not null,
  execution_id uuid        references job_executions (id),
  at           timestamptz not null,
  stream       text        not null check (stream in ('stdout', 'stderr', 'system')),
  level        text        not null,
  message      text        not null,
  primary key (job_id, seq)
);
-- `jobs logs` and the detail view read one execution's lines in order.
create index job_logs_execution on job_logs (execution_id, seq);
