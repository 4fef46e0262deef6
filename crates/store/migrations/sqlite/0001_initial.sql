-- taskman schema, SQLite. Timestamps are RFC 3339 UTC text (they sort as they read).

CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    created_at  TEXT NOT NULL
);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL UNIQUE,
    hash        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE plans (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    title       TEXT,
    -- The plan's structure besides tasks (section dependencies, claims, status items) as
    -- read from the newest version, JSON.
    meta        TEXT NOT NULL DEFAULT '{}',
    version     INTEGER NOT NULL DEFAULT 0,
    -- Conflicts and kept tasks the last sync reported: while any stand, every sync takes
    -- the full path so it reports them again.
    standing    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (project_id, name)
);

-- Every version of every plan's source text, as imported or written back.
CREATE TABLE plan_versions (
    plan_id     INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    source      BLOB NOT NULL,
    actor       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (plan_id, number)
);

CREATE TABLE sections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id     INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    title       TEXT NOT NULL,
    level       INTEGER NOT NULL,
    line        INTEGER NOT NULL,
    parent_position INTEGER,
    task_position   INTEGER,
    declared    TEXT,
    UNIQUE (plan_id, position)
);

CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    plan_id     INTEGER REFERENCES plans(id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    title       TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('todo', 'in_progress', 'blocked', 'deferred', 'done', 'cancelled')),
    -- 0 critical .. 3 low; NULL none.
    priority    INTEGER CHECK (priority BETWEEN 0 AND 3),
    -- Own priority or the nearest parent's: what "ready" sorts by.
    rank        INTEGER NOT NULL DEFAULT 4,
    owner       TEXT,
    section_id  INTEGER REFERENCES sections(id) ON DELETE SET NULL,
    parent_id   INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
    position    INTEGER NOT NULL,
    line        INTEGER,
    effort_min  REAL,
    effort_max  REAL,
    due         TEXT,
    tags        TEXT NOT NULL DEFAULT '[]',
    notes       TEXT NOT NULL DEFAULT '',
    -- The rest of the parsed task (marker, declared status, fields, dependencies as
    -- written, dates...), JSON.
    data        TEXT NOT NULL DEFAULT '{}',
    -- Mergeable values when file and database last agreed (three-way sync), JSON; '' when
    -- they equal the row's own values; NULL for tasks created in the database.
    base        TEXT,
    -- The task's id and its ancestors' ids, innermost first, JSON: a task waits on its own
    -- dependencies and on its parents', so "ready" checks every id in here.
    lineage     TEXT NOT NULL DEFAULT '[]',
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX tasks_plan_key ON tasks (plan_id, key);
-- Ready work is read in this order: status, inherited priority, plan order.
CREATE INDEX tasks_project_status ON tasks (project_id, status, rank, plan_id, position);
CREATE INDEX tasks_project_priority ON tasks (project_id, priority);
CREATE INDEX tasks_project_owner ON tasks (project_id, owner) WHERE owner IS NOT NULL;
CREATE INDEX tasks_plan_position ON tasks (plan_id, position);
CREATE INDEX tasks_section ON tasks (section_id);
CREATE INDEX tasks_parent ON tasks (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE task_tags (
    task_id     INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (tag, task_id)
) WITHOUT ROWID;
CREATE INDEX task_tags_task ON task_tags (task_id);

-- Direct dependencies: `source` says where each comes from: the document's own words,
-- a section rule ("Phase 2 depends on Phase 1"), or a user.
CREATE TABLE task_deps (
    task_id     INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    depends_on  INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    source      TEXT NOT NULL CHECK (source IN ('document', 'section', 'user')),
    PRIMARY KEY (task_id, depends_on, source)
) WITHOUT ROWID;
CREATE INDEX task_deps_depends_on ON task_deps (depends_on);

-- Full-text index over titles and notes. New rows are indexed by the store itself, in
-- bulk after an import (five times cheaper than a per-row trigger); changes and deletions
-- by triggers.
-- columnsize = 0: no per-row column sizes (only bm25 ranking reads them; search here
-- filters) makes indexing a third cheaper.
CREATE VIRTUAL TABLE tasks_fts USING fts5 (title, notes, content = 'tasks', content_rowid = 'id',
    columnsize = 0);
CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
    INSERT INTO tasks_fts (tasks_fts, rowid, title, notes) VALUES ('delete', old.id, old.title, old.notes);
END;
CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, notes ON tasks BEGIN
    INSERT INTO tasks_fts (tasks_fts, rowid, title, notes) VALUES ('delete', old.id, old.title, old.notes);
    INSERT INTO tasks_fts (rowid, title, notes) VALUES (new.id, new.title, new.notes);
END;

CREATE TABLE sprints (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    goal        TEXT NOT NULL DEFAULT '',
    closed_at   TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    UNIQUE (project_id, name),
    CHECK (ends_on >= starts_on)
);

CREATE TABLE sprint_tasks (
    sprint_id   INTEGER NOT NULL REFERENCES sprints(id) ON DELETE CASCADE,
    task_id     INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    PRIMARY KEY (sprint_id, task_id)
) WITHOUT ROWID;

CREATE TABLE action_lists (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL
);

CREATE TABLE action_items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id     INTEGER NOT NULL REFERENCES action_lists(id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    done        INTEGER NOT NULL DEFAULT 0,
    owner       TEXT,
    due         TEXT,
    position    INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX action_items_list ON action_items (list_id, position);

-- The append-only event log. No foreign keys: history outlives what it describes.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    project_id  INTEGER,
    task_id     INTEGER,
    action      TEXT NOT NULL,
    before      TEXT,
    after       TEXT
);
CREATE INDEX events_project ON events (project_id, id);
CREATE INDEX events_task ON events (task_id, id) WHERE task_id IS NOT NULL;
CREATE INDEX events_actor ON events (actor, id);
CREATE INDEX events_at ON events (at);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;
