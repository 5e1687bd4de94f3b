// New pairings rows (key not yet stored): CREATE, cheaper than MERGE.
UNWIND $rows AS row
MATCH (a:Unit {id: row.unit_id})
MATCH (b:Village {id: row.village_id})
CREATE (a)-[:PAIRED_WITH {key: row.key, since: row.since, until: row.until}]->(b)
