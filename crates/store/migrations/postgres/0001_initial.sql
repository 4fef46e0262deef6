-- taskman schema, PostgreSQL. Timestamps are RFC 3339 UTC text, as in SQLite, so both
-- backends hand out the same values and they sort as they read.

CREATE TABLE users (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    created_at  TEXT NOT NULL
);

CREATE TABLE api_keys (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL UNIQUE,
    hash        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE projects (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE plans (
    id          BIGSERIAL PRIMARY KEY,
    project_id  BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    title       TEXT,
    meta        TEXT NOT NULL DEFAULT '{}',
    version     BIGINT NOT NULL DEFAULT 0,
    -- Conflicts and kept tasks the last sync reported: while any stand, every sync takes
    -- the full path so it reports them again.
    standing    BIGINT NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE plan_versions (
    plan_id     BIGINT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    number      BIGINT NOT NULL,
    source      BYTEA NOT NULL,
    actor       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (plan_id, number)
);

CREATE TABLE sections (
    id          BIGSERIAL PRIMARY KEY,
    plan_id     BIGINT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    title       TEXT NOT NULL,
    level       INTEGER NOT NULL,
    line        BIGINT NOT NULL,
    parent_position BIGINT,
    task_position   BIGINT,
    declared    TEXT,
    UNIQUE (plan_id, position)
);

CREATE TABLE tasks (
    id          BIGSERIAL PRIMARY KEY,
    project_id  BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    plan_id     BIGINT REFERENCES plans(id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    title       TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('todo', 'in_progress', 'blocked', 'deferred', 'done', 'cancelled')),
    priority    BIGINT CHECK (priority BETWEEN 0 AND 3),
    rank        BIGINT NOT NULL DEFAULT 4,
    owner       TEXT,
    section_id  BIGINT REFERENCES sections(id) ON DELETE SET NULL,
    parent_id   BIGINT REFERENCES tasks(id) ON DELETE SET NULL,
    position    BIGINT NOT NULL,
    line        BIGINT,
    effort_min  DOUBLE PRECISION,
    effort_max  DOUBLE PRECISION,
    due         TEXT,
    tags        TEXT NOT NULL DEFAULT '[]',
    notes       TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '{}',
    base        TEXT,
    -- The task's id and its ancestors' ids, innermost first.
    lineage     BIGINT[] NOT NULL DEFAULT '{}',
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    search      TSVECTOR GENERATED ALWAYS AS (
                    to_tsvector('simple', title || ' ' || notes)) STORED
);
CREATE UNIQUE INDEX tasks_plan_key ON tasks (plan_id, key);
CREATE INDEX tasks_project_status ON tasks (project_id, status, rank, plan_id, position);
CREATE INDEX tasks_project_priority ON tasks (project_id, priority);
CREATE INDEX tasks_project_owner ON tasks (project_id, owner) WHERE owner IS NOT NULL;
CREATE INDEX tasks_plan_position ON tasks (plan_id, position);
CREATE INDEX tasks_section ON tasks (section_id);
CREATE INDEX tasks_parent ON tasks (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX tasks_search ON tasks USING GIN (search);

CREATE TABLE task_tags (
    task_id     BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (tag, task_id)
);
CREATE INDEX task_tags_task ON task_tags (task_id);

CREATE TABLE task_deps (
    task_id     BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    depends_on  BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    source      TEXT NOT NULL CHECK (source IN ('document', 'section', 'user')),
    PRIMARY KEY (task_id, depends_on, source)
);
CREATE INDEX task_deps_depends_on ON task_deps (depends_on);

CREATE TABLE sprints (
    id          BIGSERIAL PRIMARY KEY,
    project_id  BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    goal        TEXT NOT NULL DEFAULT '',
    closed_at   TEXT,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    UNIQUE (project_id, name),
    CHECK (ends_on >= starts_on)
);

CREATE TABLE sprint_tasks (
    sprint_id   BIGINT NOT NULL REFERENCES sprints(id) ON DELETE CASCADE,
    task_id     BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    PRIMARY KEY (sprint_id, task_id)
);

CREATE TABLE action_lists (
    id          BIGSERIAL PRIMARY KEY,
    project_id  BIGINT REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL
);

CREATE TABLE action_items (
    id          BIGSERIAL PRIMARY KEY,
    list_id     BIGINT NOT NULL REFERENCES action_lists(id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    done        BOOLEAN NOT NULL DEFAULT FALSE,
    owner       TEXT,
    due         TEXT,
    position    BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX action_items_list ON action_items (list_id, position);

CREATE TABLE events (
    id          BIGSERIAL PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    project_id  BIGINT,
    task_id     BIGINT,
    action      TEXT NOT NULL,
    before      TEXT,
    after       TEXT
);
CREATE INDEX events_project ON events (project_id, id);
CREATE INDEX events_task ON events (task_id, id) WHERE task_id IS NOT NULL;
CREATE INDEX events_actor ON events (actor, id);
CREATE INDEX events_at ON events (at);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only';
END;
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
