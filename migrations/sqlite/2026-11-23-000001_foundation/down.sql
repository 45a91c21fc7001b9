DROP TABLE audit_entries;
DROP TABLE refresh_tokens;
DROP TABLE products;
DROP TABLE user_roles;
DROP TABLE users;
DROP TABLE organisations;
DROP TABLE areas;
