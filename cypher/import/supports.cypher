// Stored supports rows (found by key before any write): update their dates.
// Found from the end node's id, not the key index: inside a transaction that has already
// written much, a relationship index seek is slow.
UNWIND $rows AS row
MATCH (a:Person {id: row.person_id})-[r:SUPPORTS]->(b:Household {id: row.household_id})
USING INDEX a:Person(id)
WHERE r.key = row.key
SET r.since = row.since, r.until = row.until
