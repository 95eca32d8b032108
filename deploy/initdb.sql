-- The two databases and their owners (passwords: change them, and in console.env).
CREATE USER console PASSWORD 'CHANGE-ME';
CREATE USER market PASSWORD 'CHANGE-ME';
CREATE DATABASE console OWNER console;
CREATE DATABASE market OWNER market;
