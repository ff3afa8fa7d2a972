-- The model registry: one JSON document (edge/src/registry.rs) and its version, so admin
-- changes are serialised by compare-and-swap (UPDATE ... WHERE version = the one read). Until
-- this row exists the worker imports the document older deployments kept in KV (`registry`).
CREATE TABLE IF NOT EXISTS registry (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    state TEXT NOT NULL,
    version INTEGER NOT NULL
);
