DROP TABLE stock_movements;
DROP TABLE kit_issues;
DROP TABLE stock_allocations;
DROP TABLE batches;
