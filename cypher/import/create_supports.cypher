// New supports rows (key not yet stored): CREATE, cheaper than MERGE.
UNWIND $rows AS row
MATCH (a:Person {id: row.person_id})
MATCH (b:Household {id: row.household_id})
CREATE (a)-[:SUPPORTS {key: row.key, since: row.since, until: row.until}]->(b)
