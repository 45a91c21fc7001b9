DROP TABLE reversals;
