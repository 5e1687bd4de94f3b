// New liaisons_member_household rows (key not yet stored): CREATE, cheaper than MERGE.
UNWIND $rows AS row
MATCH (a:Person {id: row.from_id})
MATCH (b:Household {id: row.to_id})
CREATE (a)-[:LIAISES_WITH_HOUSEHOLD {key: row.key, since: row.since, until: row.until}]->(b)
