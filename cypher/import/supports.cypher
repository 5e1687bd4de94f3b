// Upsert cadre-household supports (结穷亲), identified by key (person, household).
UNWIND $rows AS row
MATCH (p:Person {id: row.person_id})
MATCH (h:Household {id: row.household_id})
MERGE (p)-[r:SUPPORTS {key: row.key}]->(h)
SET r.since = row.since, r.until = row.until
