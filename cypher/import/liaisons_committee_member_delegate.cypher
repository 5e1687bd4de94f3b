// Upsert committee_member-delegate liaisons, identified by key (kind, from, to).
UNWIND $rows AS row
MATCH (a:Person {id: row.from_id})
MATCH (b:Person {id: row.to_id})
MERGE (a)-[r:LIAISES_WITH_DELEGATE {key: row.key}]->(b)
SET r.since = row.since, r.until = row.until
