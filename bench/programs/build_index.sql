-- build_index.sql — an index build in an in-memory SQLite database, for `hakmem bench`
-- (workload "sqlite"). The row count comes from the parameter @rows, which the bench sets
-- with `.parameter set @rows N`.
CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT, city TEXT, score INTEGER, note BLOB);
WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter WHERE n < @rows)
INSERT INTO people(name, city, score, note)
SELECT printf('person-%08d', (n * 7919) % @rows), printf('city-%03d', n % 397), abs(random() % 100000), randomblob(32 + n % 96)
FROM counter;
CREATE INDEX people_by_name ON people(name);
CREATE INDEX people_by_city_score ON people(city, score);
SELECT count(*), count(DISTINCT city), max(score) FROM people WHERE name > 'person-0005';
