CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, legacy_flag boolean);
CREATE TABLE sessions (id uuid PRIMARY KEY, user_id bigint REFERENCES users, expires_at timestamptz);
