-- Tasks created one at a time are added to the full-text index once per write batch, not
-- once per task: FTS5 writes its pending entries out at every savepoint release, and the
-- writer gives each change its own savepoint, so indexing inside the change cost a third of
-- a task's insert. `fts_pending` lists tasks created in the batch and not indexed yet; the
-- writer indexes them just before the batch commits (see src/sqlite/writer.rs). The
-- triggers leave such a task alone: it is indexed with its final text at the end.
CREATE TABLE fts_pending (id INTEGER PRIMARY KEY);

DROP TRIGGER tasks_fts_delete;
DROP TRIGGER tasks_fts_update;
CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks
    WHEN NOT EXISTS (SELECT 1 FROM fts_pending WHERE id = old.id) BEGIN
    INSERT INTO tasks_fts (tasks_fts, rowid, title, notes) VALUES ('delete', old.id, old.title, old.notes);
END;
CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, notes ON tasks
    WHEN NOT EXISTS (SELECT 1 FROM fts_pending WHERE id = old.id) BEGIN
    INSERT INTO tasks_fts (tasks_fts, rowid, title, notes) VALUES ('delete', old.id, old.title, old.notes);
    INSERT INTO tasks_fts (rowid, title, notes) VALUES (new.id, new.title, new.notes);
END;
