-- Pipelines: the last cursor value a named pipeline copied, per owner, so an incremental rerun continues after it.
-- owner: "admin", "anonymous", "key:<key id>" or "user:<subject>"; one caller's names never move another's cursor.
CREATE TABLE IF NOT EXISTS atrium.pipeline_cursors (
  owner text NOT NULL,
  name text NOT NULL,
  cursor_column text NOT NULL,
  -- the cursor column's value of the last row read, as JSON (a number, or text such as a timestamp)
  cursor_value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, name)
);
