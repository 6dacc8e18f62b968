INSERT INTO users (email, created_at) VALUES
    ('ada@example.com', '2025-12-01'),
    ('grace@example.com', '2026-01-15'),
    ('alan@example.com', '2026-02-01');
