ALTER TABEL users ADD COLUMN phone text;
