// Upsert member-household liaisons, identified by key (kind, from, to).
UNWIND $rows AS row
MATCH (a:Person {id: row.from_id})
MATCH (b:Household {id: row.to_id})
MERGE (a)-[r:LIAISES_WITH_HOUSEHOLD {key: row.key}]->(b)
SET r.since = row.since, r.until = row.until
