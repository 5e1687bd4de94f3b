// Stored liaisons_member_household rows (found by key before any write): update their dates.
// Found from the end node's id, not the key index: inside a transaction that has already
// written much, a relationship index seek is slow.
UNWIND $rows AS row
MATCH (a:Person {id: row.from_id})-[r:LIAISES_WITH_HOUSEHOLD]->(b:Household {id: row.to_id})
USING INDEX a:Person(id)
WHERE r.key = row.key
SET r.since = row.since, r.until = row.until
