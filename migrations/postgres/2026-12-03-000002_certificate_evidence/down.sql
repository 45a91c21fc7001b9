ALTER TABLE certificates DROP COLUMN evidence;
