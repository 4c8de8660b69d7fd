// Migration 6: Open Service Broker instances and bindings, and the version of the grants they imply.
export const broker = {
  version: 6,
  name: 'broker',
  sql: `
    -- One row per provisioned service instance; its secrets live under osb/<instance_id>/ in
    -- the secret store. attributes holds what the platform sent besides the parameters
    -- (organization/space GUIDs, context), compared on a repeated provision (200 or 409).
    -- Parameter values are secrets and are never stored here.
    CREATE TABLE osb_instances (
      instance_id text PRIMARY KEY,
      service_id  text NOT NULL,
      plan_id     text NOT NULL,
      attributes  jsonb NOT NULL,
      created_at  timestamptz NOT NULL,
      created_by  text NOT NULL,
      updated_at  timestamptz NOT NULL
    );
    -- One row per binding. identity is what the read grant on osb/<instance_id>/* is given to:
    -- key:<api_key_id> for API-key bindings (the key itself is stored only as a hash, by
    -- authn) or a workload's SPIFFE ID. No ON DELETE CASCADE: deleting a binding must revoke
    -- its key, so bindings are only ever removed explicitly.
    CREATE TABLE osb_bindings (
      binding_id  text PRIMARY KEY,
      instance_id text NOT NULL REFERENCES osb_instances (instance_id),
      kind        text NOT NULL CHECK (kind IN ('api_key', 'workload')),
      identity    text NOT NULL,
      api_key_id  text,
      attributes  jsonb NOT NULL,
      created_at  timestamptz NOT NULL,
      created_by  text NOT NULL,
      CHECK ((kind = 'api_key') = (api_key_id IS NOT NULL))
    );
    CREATE INDEX osb_bindings_instance ON osb_bindings (instance_id);
    -- Bumped in the same transaction as every change to osb_bindings, so a replica that
    -- missed a NOTIFY sees a new number on its next poll and reloads the grants.
    CREATE TABLE osb_grant_version (
      id      boolean PRIMARY KEY DEFAULT true CHECK (id),
      version bigint NOT NULL
    );
    INSERT INTO osb_grant_version (id, version) VALUES (true, 0);
  `,
} as const;
