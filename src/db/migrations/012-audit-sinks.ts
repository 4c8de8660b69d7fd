// Migration 12: the audit sinks' delivery cursors, and a NOTIFY that wakes them on new rows.
export const auditSinks = {
  version: 12,
  name: 'audit-sinks',
  sql: `
    -- One row per sink (syslog, webhook): the highest seq its receiver has confirmed. Only the
    -- replica holding the sink's advisory lock moves it, and only forward. Rows of audit_log
    -- below a cursor may later be archived (deleted); a cursor below the oldest row left then
    -- reports a gap instead of waiting for rows that will not come.
    CREATE TABLE audit_sink_cursors (
      sink       text PRIMARY KEY,
      seq        bigint NOT NULL CHECK (seq >= 0),
      updated_at timestamptz NOT NULL
    );
    -- One notification per appending statement (not per row); the payload is empty because
    -- the senders read from their cursor anyway.
    CREATE FUNCTION hallmark_audit_appended() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('hallmark_audit_appended', '');
      RETURN NULL;
    END $$;
    CREATE TRIGGER audit_log_appended AFTER INSERT ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION hallmark_audit_appended();
  `,
} as const;
