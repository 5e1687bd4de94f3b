// Stored pairings rows (found by key before any write): update their dates.
// Found from the end node's id, not the key index: inside a transaction that has already
// written much, a relationship index seek is slow.
UNWIND $rows AS row
MATCH (a:Unit {id: row.unit_id})-[r:PAIRED_WITH]->(b:Village {id: row.village_id})
USING INDEX a:Unit(id)
WHERE r.key = row.key
SET r.since = row.since, r.until = row.until
