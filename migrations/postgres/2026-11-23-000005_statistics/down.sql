DROP INDEX certificates_expiry;
DROP TABLE stat_cells;
