-- localiam schema, version 2: the durable record of the in-memory model.
--
-- Every entity (user, group, managed policy, account settings, ...) is one row: its account, its kind, its
-- unique ID and the entity itself as JSON (the serde form of src/store/model.rs). What hangs off an entity
-- (tags, access keys, login profile, inline policies, memberships, attachments, policy versions) is part of
-- its body. The server loads every row at start and answers every read from memory.
--
-- The data of version 1's tables is carried over, then those tables are dropped.

CREATE TABLE records (
    account TEXT NOT NULL,
    kind    TEXT NOT NULL,
    id      TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (account, kind, id)
) WITHOUT ROWID;

INSERT INTO records (account, kind, id, body)
SELECT u.account_id, 'user', u.user_id, json_object(
    'user_id', u.user_id,
    'account_id', u.account_id,
    'name', u.name,
    'path', u.path,
    'create_date', u.create_date,
    'password_last_used', u.password_last_used,
    'permissions_boundary_arn', u.permissions_boundary_arn,
    'tags', (SELECT json_group_array(json_object('key', t.key, 'value', t.value))
             FROM (SELECT key, value FROM user_tags WHERE owner_id = u.user_id ORDER BY seq) t),
    'access_keys', (SELECT json_group_array(json_object(
                        'access_key_id', k.access_key_id,
                        'secret_access_key', k.secret_access_key,
                        'status', k.status,
                        'create_date', k.create_date,
                        'last_used', CASE WHEN k.last_used_date IS NULL THEN NULL ELSE json_object(
                            'date', k.last_used_date,
                            'service', COALESCE(k.last_used_service, ''),
                            'region', COALESCE(k.last_used_region, '')) END))
                    FROM (SELECT * FROM access_keys WHERE user_id = u.user_id
                          ORDER BY create_date, access_key_id) k),
    'login_profile', (SELECT json_object(
                          'password_hash', l.password_hash,
                          'password_reset_required', json(CASE WHEN l.password_reset_required THEN 'true' ELSE 'false' END),
                          'create_date', l.create_date,
                          'password_changed', l.password_changed)
                      FROM login_profiles l WHERE l.user_id = u.user_id),
    'password_history', (SELECT json_group_array(h.password_hash)
                         FROM (SELECT password_hash FROM password_history WHERE user_id = u.user_id ORDER BY seq) h),
    'groups', (SELECT json_group_array(m.group_id)
               FROM (SELECT group_id FROM group_members WHERE user_id = u.user_id ORDER BY seq) m),
    'attached', (SELECT json_group_array(a.policy_id)
                 FROM (SELECT policy_id FROM user_policy_attachments WHERE user_id = u.user_id ORDER BY seq) a),
    'inline', (SELECT json_group_array(json_object('name', i.name, 'document', i.document))
               FROM (SELECT name, document FROM user_inline_policies WHERE user_id = u.user_id ORDER BY name_lower) i)
)
FROM users u;

INSERT INTO records (account, kind, id, body)
SELECT g.account_id, 'group', g.group_id, json_object(
    'group_id', g.group_id,
    'account_id', g.account_id,
    'name', g.name,
    'path', g.path,
    'create_date', g.create_date,
    'attached', (SELECT json_group_array(a.policy_id)
                 FROM (SELECT policy_id FROM group_policy_attachments WHERE group_id = g.group_id ORDER BY seq) a),
    'inline', (SELECT json_group_array(json_object('name', i.name, 'document', i.document))
               FROM (SELECT name, document FROM group_inline_policies WHERE group_id = g.group_id ORDER BY name_lower) i)
)
FROM iam_groups g;

INSERT INTO records (account, kind, id, body)
SELECT p.account_id, 'policy', p.policy_id, json_object(
    'policy_id', p.policy_id,
    'account_id', p.account_id,
    'name', p.name,
    'path', p.path,
    'default_version_id', p.default_version_id,
    'next_version', p.next_version,
    'is_attachable', json(CASE WHEN p.is_attachable THEN 'true' ELSE 'false' END),
    'description', p.description,
    'create_date', p.create_date,
    'update_date', p.update_date,
    'versions', (SELECT json_group_array(json_object(
                     'version_id', v.version_id, 'document', v.document, 'create_date', v.create_date))
                 FROM (SELECT * FROM policy_versions WHERE policy_id = p.policy_id ORDER BY version_num DESC) v),
    'tags', (SELECT json_group_array(json_object('key', t.key, 'value', t.value))
             FROM (SELECT key, value FROM policy_tags WHERE owner_id = p.policy_id ORDER BY seq) t)
)
FROM policies p WHERE p.account_id <> 'aws';

INSERT INTO records (account, kind, id, body)
SELECT k.account_id, 'account', 'account', json_object(
    'account_id', k.account_id,
    'root_access_keys', json_group_array(json_object(
        'access_key_id', k.access_key_id,
        'secret_access_key', k.secret_access_key,
        'status', k.status,
        'create_date', k.create_date,
        'last_used', CASE WHEN k.last_used_date IS NULL THEN NULL ELSE json_object(
            'date', k.last_used_date,
            'service', COALESCE(k.last_used_service, ''),
            'region', COALESCE(k.last_used_region, '')) END)))
FROM (SELECT * FROM access_keys WHERE user_id IS NULL ORDER BY create_date, access_key_id) k
GROUP BY k.account_id;

-- Version 1's tables, children first.
DROP TABLE credential_reports;
DROP TABLE sts_sessions;
DROP TABLE user_tags;
DROP TABLE role_tags;
DROP TABLE policy_tags;
DROP TABLE instance_profile_tags;
DROP TABLE mfa_device_tags;
DROP TABLE oidc_provider_tags;
DROP TABLE saml_provider_tags;
DROP TABLE server_certificate_tags;
DROP TABLE account_aliases;
DROP TABLE password_policies;
DROP TABLE password_history;
DROP TABLE login_profiles;
DROP TABLE access_keys;
DROP TABLE mfa_devices;
DROP TABLE signing_certificates;
DROP TABLE ssh_public_keys;
DROP TABLE service_specific_credentials;
DROP TABLE saml_providers;
DROP TABLE oidc_providers;
DROP TABLE server_certificates;
DROP TABLE user_inline_policies;
DROP TABLE group_inline_policies;
DROP TABLE role_inline_policies;
DROP TABLE user_policy_attachments;
DROP TABLE group_policy_attachments;
DROP TABLE role_policy_attachments;
DROP TABLE policy_versions;
DROP TABLE policies;
DROP TABLE instance_profile_roles;
DROP TABLE instance_profiles;
DROP TABLE roles;
DROP TABLE group_members;
DROP TABLE iam_groups;
DROP TABLE users;
