// Upsert unit-village pairings, identified by key (unit, village).
UNWIND $rows AS row
MATCH (u:Unit {id: row.unit_id})
MATCH (v:Village {id: row.village_id})
MERGE (u)-[r:PAIRED_WITH {key: row.key}]->(v)
SET r.since = row.since, r.until = row.until
