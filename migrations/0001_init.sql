-- localiam schema, version 1.
--
-- Conventions
-- * Every table carries account_id (12 digits; 'aws' for AWS managed policies). Several accounts share one database.
-- * Entities reference each other by their immutable unique ID (user_id, group_id, role_id, policy_id, ...), never by
--   name, so renames and path changes carry over everywhere. ARNs are computed from account_id/path/name, not stored.
--   Exception: permissions boundaries are stored as the policy ARN, as AWS does (managed policies cannot be renamed,
--   so the ARN is stable; an ARN may name an AWS managed policy).
-- * Names are unique case-insensitively per account via a name_lower column (filled by the store with
--   str::to_lowercase) and a UNIQUE (account_id, name_lower) index. Listing orders by name_lower.
-- * Timestamps are INTEGER unix seconds (UTC). NULL = never / not set.
-- * Booleans are INTEGER 0/1. Lists (client IDs, thumbprints, session tags, ...) are JSON text.
-- * Tag tables keep insertion order via the seq column (INTEGER PRIMARY KEY, monotonically increasing); a tag whose
--   key already exists (case-insensitively) keeps its position and gets the new value.
-- * Children cascade on delete of their parent; AWS's DeleteConflict checks are made by the handlers before deleting.

-- ---------------------------------------------------------------------------------------------------------------
-- Users, groups, membership
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE users (
    user_id                  TEXT PRIMARY KEY NOT NULL,            -- AIDA...
    account_id               TEXT NOT NULL,
    name                     TEXT NOT NULL,
    name_lower               TEXT NOT NULL,
    path                     TEXT NOT NULL DEFAULT '/',
    create_date              INTEGER NOT NULL,
    password_last_used       INTEGER,
    permissions_boundary_arn TEXT
);
CREATE UNIQUE INDEX users_name ON users (account_id, name_lower);
CREATE INDEX users_path ON users (account_id, path, name_lower);
CREATE INDEX users_boundary ON users (permissions_boundary_arn) WHERE permissions_boundary_arn IS NOT NULL;

CREATE TABLE iam_groups (
    group_id    TEXT PRIMARY KEY NOT NULL,                         -- AGPA...
    account_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_lower  TEXT NOT NULL,
    path        TEXT NOT NULL DEFAULT '/',
    create_date INTEGER NOT NULL
);
CREATE UNIQUE INDEX groups_name ON iam_groups (account_id, name_lower);
CREATE INDEX groups_path ON iam_groups (account_id, path, name_lower);

CREATE TABLE group_members (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    group_id   TEXT NOT NULL REFERENCES iam_groups (group_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    UNIQUE (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

-- ---------------------------------------------------------------------------------------------------------------
-- Roles, instance profiles
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE roles (
    role_id                     TEXT PRIMARY KEY NOT NULL,         -- AROA...
    account_id                  TEXT NOT NULL,
    name                        TEXT NOT NULL,
    name_lower                  TEXT NOT NULL,
    path                        TEXT NOT NULL DEFAULT '/',
    create_date                 INTEGER NOT NULL,
    assume_role_policy_document TEXT NOT NULL,                     -- stored decoded (plain JSON text)
    description                 TEXT,
    max_session_duration        INTEGER NOT NULL DEFAULT 3600,
    permissions_boundary_arn    TEXT,
    last_used_date              INTEGER,
    last_used_region            TEXT,
    service_linked              INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX roles_name ON roles (account_id, name_lower);
CREATE INDEX roles_path ON roles (account_id, path, name_lower);
CREATE INDEX roles_boundary ON roles (permissions_boundary_arn) WHERE permissions_boundary_arn IS NOT NULL;

CREATE TABLE instance_profiles (
    instance_profile_id TEXT PRIMARY KEY NOT NULL,                 -- AIPA...
    account_id          TEXT NOT NULL,
    name                TEXT NOT NULL,
    name_lower          TEXT NOT NULL,
    path                TEXT NOT NULL DEFAULT '/',
    create_date         INTEGER NOT NULL
);
CREATE UNIQUE INDEX instance_profiles_name ON instance_profiles (account_id, name_lower);
CREATE INDEX instance_profiles_path ON instance_profiles (account_id, path, name_lower);

CREATE TABLE instance_profile_roles (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id          TEXT NOT NULL,
    instance_profile_id TEXT NOT NULL REFERENCES instance_profiles (instance_profile_id) ON DELETE CASCADE,
    role_id             TEXT NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    UNIQUE (instance_profile_id, role_id)
);
CREATE INDEX instance_profile_roles_role ON instance_profile_roles (role_id);

-- ---------------------------------------------------------------------------------------------------------------
-- Managed policies
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE policies (
    policy_id          TEXT PRIMARY KEY NOT NULL,                  -- ANPA...
    account_id         TEXT NOT NULL,                              -- 'aws' for AWS managed policies
    name               TEXT NOT NULL,
    name_lower         TEXT NOT NULL,
    path               TEXT NOT NULL DEFAULT '/',
    default_version_id TEXT NOT NULL DEFAULT 'v1',
    next_version       INTEGER NOT NULL DEFAULT 2,                 -- number of the next CreatePolicyVersion
    is_attachable      INTEGER NOT NULL DEFAULT 1,
    description        TEXT,
    create_date        INTEGER NOT NULL,
    update_date        INTEGER NOT NULL
);
CREATE UNIQUE INDEX policies_name ON policies (account_id, name_lower);
CREATE INDEX policies_path ON policies (account_id, path, name_lower);

CREATE TABLE policy_versions (
    policy_id   TEXT NOT NULL REFERENCES policies (policy_id) ON DELETE CASCADE,
    version_id  TEXT NOT NULL,                                     -- 'v1', 'v2', ...
    version_num INTEGER NOT NULL,
    document    TEXT NOT NULL,                                     -- stored decoded (plain JSON text)
    create_date INTEGER NOT NULL,
    account_id  TEXT NOT NULL,
    PRIMARY KEY (policy_id, version_id)
);

-- Attachments of managed policies. account_id is the account of the attaching entity (an AWS managed policy is
-- attached from many accounts), so attachment counts are computed per account.
CREATE TABLE user_policy_attachments (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    policy_id  TEXT NOT NULL REFERENCES policies (policy_id) ON DELETE CASCADE,
    UNIQUE (user_id, policy_id)
);
CREATE INDEX user_policy_attachments_policy ON user_policy_attachments (policy_id, account_id);

CREATE TABLE group_policy_attachments (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    group_id   TEXT NOT NULL REFERENCES iam_groups (group_id) ON DELETE CASCADE,
    policy_id  TEXT NOT NULL REFERENCES policies (policy_id) ON DELETE CASCADE,
    UNIQUE (group_id, policy_id)
);
CREATE INDEX group_policy_attachments_policy ON group_policy_attachments (policy_id, account_id);

CREATE TABLE role_policy_attachments (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    role_id    TEXT NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    policy_id  TEXT NOT NULL REFERENCES policies (policy_id) ON DELETE CASCADE,
    UNIQUE (role_id, policy_id)
);
CREATE INDEX role_policy_attachments_policy ON role_policy_attachments (policy_id, account_id);

-- Inline policies. Names unique case-insensitively per owner; documents stored decoded.
CREATE TABLE user_inline_policies (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    document   TEXT NOT NULL,
    UNIQUE (user_id, name_lower)
);

CREATE TABLE group_inline_policies (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    group_id   TEXT NOT NULL REFERENCES iam_groups (group_id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    document   TEXT NOT NULL,
    UNIQUE (group_id, name_lower)
);

CREATE TABLE role_inline_policies (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    role_id    TEXT NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    document   TEXT NOT NULL,
    UNIQUE (role_id, name_lower)
);

-- ---------------------------------------------------------------------------------------------------------------
-- Credentials of users
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE access_keys (
    access_key_id     TEXT PRIMARY KEY NOT NULL,                   -- AKIA... (20 chars)
    account_id        TEXT NOT NULL,
    user_id           TEXT REFERENCES users (user_id) ON DELETE CASCADE, -- NULL = root user's key
    secret_access_key TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'Active',              -- 'Active' | 'Inactive'
    create_date       INTEGER NOT NULL,
    last_used_date    INTEGER,
    last_used_service TEXT,
    last_used_region  TEXT
);
CREATE INDEX access_keys_user ON access_keys (user_id, create_date);

CREATE TABLE login_profiles (
    user_id                 TEXT PRIMARY KEY NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    account_id              TEXT NOT NULL,
    password_hash           TEXT NOT NULL,                         -- PHC string made by the caller
    password_reset_required INTEGER NOT NULL DEFAULT 0,
    create_date             INTEGER NOT NULL,
    password_changed        INTEGER                                -- for password expiry (MaxPasswordAge)
);

-- Previous password hashes, for PasswordReusePrevention.
CREATE TABLE password_history (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    create_date   INTEGER NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id);

-- MFA devices, virtual (CreateVirtualMFADevice) and enabled hardware ones (EnableMFADevice with a non-virtual serial).
CREATE TABLE mfa_devices (
    mfa_id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        TEXT NOT NULL,
    serial_number     TEXT NOT NULL,                               -- virtual: arn:aws:iam::ACCOUNT:mfa/PATH/NAME
    is_virtual        INTEGER NOT NULL,
    name              TEXT,                                        -- virtual devices only
    path              TEXT NOT NULL DEFAULT '/',
    seed_base32       TEXT,                                        -- virtual devices only (TOTP secret)
    user_id           TEXT REFERENCES users (user_id) ON DELETE SET NULL, -- NULL = unassigned
    enable_date       INTEGER,
    create_date       INTEGER NOT NULL,
    last_totp_counter INTEGER,                                     -- replay protection
    UNIQUE (account_id, serial_number)
);
CREATE INDEX mfa_devices_user ON mfa_devices (user_id);

CREATE TABLE signing_certificates (
    certificate_id   TEXT PRIMARY KEY NOT NULL,
    account_id       TEXT NOT NULL,
    user_id          TEXT REFERENCES users (user_id) ON DELETE CASCADE, -- NULL = root
    certificate_body TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'Active',
    upload_date      INTEGER NOT NULL
);
CREATE INDEX signing_certificates_user ON signing_certificates (user_id);

CREATE TABLE ssh_public_keys (
    ssh_public_key_id TEXT PRIMARY KEY NOT NULL,                   -- APKA...
    account_id        TEXT NOT NULL,
    user_id           TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    body              TEXT NOT NULL,
    fingerprint       TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'Active',
    upload_date       INTEGER NOT NULL
);
CREATE INDEX ssh_public_keys_user ON ssh_public_keys (user_id);

CREATE TABLE service_specific_credentials (
    credential_id     TEXT PRIMARY KEY NOT NULL,                   -- ACCA...
    account_id        TEXT NOT NULL,
    user_id           TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    service_name      TEXT NOT NULL,
    service_user_name TEXT,
    service_password  TEXT,
    credential_alias  TEXT,
    credential_secret TEXT,
    status            TEXT NOT NULL DEFAULT 'Active',
    create_date       INTEGER NOT NULL,
    expiration_date   INTEGER
);
CREATE INDEX service_specific_credentials_user ON service_specific_credentials (user_id);

-- ---------------------------------------------------------------------------------------------------------------
-- Identity providers, server certificates
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE saml_providers (
    provider_id               TEXT PRIMARY KEY NOT NULL,           -- SAMLProviderUUID
    account_id                TEXT NOT NULL,
    name                      TEXT NOT NULL,
    name_lower                TEXT NOT NULL,
    metadata_document         TEXT NOT NULL,
    create_date               INTEGER NOT NULL,
    valid_until               INTEGER,
    assertion_encryption_mode TEXT,
    private_keys              TEXT NOT NULL DEFAULT '[]'           -- JSON [{"KeyId":..,"Timestamp":..,"Key":..}]
);
CREATE UNIQUE INDEX saml_providers_name ON saml_providers (account_id, name_lower);

CREATE TABLE oidc_providers (
    provider_id  TEXT PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL,
    url          TEXT NOT NULL,                                    -- without the https:// scheme, as in the ARN
    url_lower    TEXT NOT NULL,
    client_ids   TEXT NOT NULL DEFAULT '[]',                       -- JSON array, order preserved
    thumbprints  TEXT NOT NULL DEFAULT '[]',                       -- JSON array, order preserved
    create_date  INTEGER NOT NULL
);
CREATE UNIQUE INDEX oidc_providers_url ON oidc_providers (account_id, url_lower);

CREATE TABLE server_certificates (
    server_certificate_id TEXT PRIMARY KEY NOT NULL,               -- ASCA...
    account_id            TEXT NOT NULL,
    name                  TEXT NOT NULL,
    name_lower            TEXT NOT NULL,
    path                  TEXT NOT NULL DEFAULT '/',
    certificate_body      TEXT NOT NULL,
    certificate_chain     TEXT,
    private_key           TEXT NOT NULL,
    upload_date           INTEGER NOT NULL,
    expiration            INTEGER
);
CREATE UNIQUE INDEX server_certificates_name ON server_certificates (account_id, name_lower);
CREATE INDEX server_certificates_path ON server_certificates (account_id, path, name_lower);

-- ---------------------------------------------------------------------------------------------------------------
-- Tags: one table per taggable entity (so deletes cascade), all of the same shape.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE user_tags (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    key_lower  TEXT NOT NULL,
    value      TEXT NOT NULL,
    UNIQUE (owner_id, key_lower)
);
CREATE TABLE role_tags (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    key_lower  TEXT NOT NULL,
    value      TEXT NOT NULL,
    UNIQUE (owner_id, key_lower)
);
CREATE TABLE policy_tags (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES policies (policy_id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    key_lower  TEXT NOT NULL,
    value      TEXT NOT NULL,
    UNIQUE (owner_id, key_lower)
);
CREATE TABLE instance_profile_tags (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES instance_profiles (instance_profile_id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    key_lower  TEXT NOT NULL,
    value      TEXT NOT NULL,
    UNIQUE (owner_id, key_lower)
);
CREATE TABLE mfa_device_tags (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    owner_id   INTEGER NOT NULL REFERENCES mfa_devices (mfa_id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    key_lower  TEXT NOT NULL,
    value      TEXT NOT NULL,
    UNIQUE (owner_id, key_lower)
);
CREATE TABLE oidc_provider_tags (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES oidc_providers (provider_id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    key_lower  TEXT NOT NULL,
    value      TEXT NOT NULL,
    UNIQUE (owner_id, key_lower)
);
CREATE TABLE saml_provider_tags (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES saml_providers (provider_id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    key_lower  TEXT NOT NULL,
    value      TEXT NOT NULL,
    UNIQUE (owner_id, key_lower)
);
CREATE TABLE server_certificate_tags (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES server_certificates (server_certificate_id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    key_lower  TEXT NOT NULL,
    value      TEXT NOT NULL,
    UNIQUE (owner_id, key_lower)
);

-- ---------------------------------------------------------------------------------------------------------------
-- Account-level state
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE account_aliases (
    account_id TEXT PRIMARY KEY NOT NULL,                          -- AWS allows one alias per account
    alias      TEXT NOT NULL UNIQUE                                -- aliases are global
);

CREATE TABLE password_policies (
    account_id                     TEXT PRIMARY KEY NOT NULL,
    minimum_password_length        INTEGER NOT NULL DEFAULT 6,
    require_symbols                INTEGER NOT NULL DEFAULT 0,
    require_numbers                INTEGER NOT NULL DEFAULT 0,
    require_uppercase_characters   INTEGER NOT NULL DEFAULT 0,
    require_lowercase_characters   INTEGER NOT NULL DEFAULT 0,
    allow_users_to_change_password INTEGER NOT NULL DEFAULT 0,
    max_password_age               INTEGER,                        -- NULL = passwords do not expire
    password_reuse_prevention      INTEGER,
    hard_expiry                    INTEGER NOT NULL DEFAULT 0
);

-- GenerateCredentialReport / GetCredentialReport.
CREATE TABLE credential_reports (
    account_id     TEXT PRIMARY KEY NOT NULL,
    state          TEXT NOT NULL,                                  -- 'STARTED' | 'INPROGRESS' | 'COMPLETE'
    started_time   INTEGER NOT NULL,
    generated_time INTEGER,
    content        BLOB                                            -- the CSV, NULL until COMPLETE
);

-- ---------------------------------------------------------------------------------------------------------------
-- STS temporary credentials
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE sts_sessions (
    access_key_id       TEXT PRIMARY KEY NOT NULL,                 -- ASIA... (20 chars)
    account_id          TEXT NOT NULL,                             -- account of the assumed principal
    secret_access_key   TEXT NOT NULL,
    session_token       TEXT NOT NULL,
    create_date         INTEGER NOT NULL,
    expiration          INTEGER NOT NULL,
    kind                TEXT NOT NULL,                             -- 'AssumeRole' | 'AssumeRoleWithSAML' |
                                                                   -- 'AssumeRoleWithWebIdentity' | 'GetSessionToken' |
                                                                   -- 'GetFederationToken' | 'AssumeRoot'
    principal_arn       TEXT NOT NULL,                             -- arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, ...
    principal_id        TEXT NOT NULL,                             -- AROA...:SESSION, AIDA..., ACCOUNT:NAME
    role_id             TEXT REFERENCES roles (role_id) ON DELETE CASCADE,
    user_id             TEXT REFERENCES users (user_id) ON DELETE CASCADE,
    session_name        TEXT,
    source_identity     TEXT,
    source_access_key   TEXT,                                      -- the key the session was obtained with
    mfa_authenticated   INTEGER NOT NULL DEFAULT 0,
    session_tags        TEXT NOT NULL DEFAULT '[]',                -- JSON [{"Key":..,"Value":..}]
    transitive_tag_keys TEXT NOT NULL DEFAULT '[]',                -- JSON ["key", ...]
    session_policy      TEXT,                                      -- inline session policy document
    session_policy_arns TEXT NOT NULL DEFAULT '[]'                 -- JSON ["arn", ...]
);
CREATE INDEX sts_sessions_expiration ON sts_sessions (expiration);
