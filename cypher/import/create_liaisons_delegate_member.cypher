// New liaisons_delegate_member rows (key not yet stored): CREATE, cheaper than MERGE.
UNWIND $rows AS row
MATCH (a:Person {id: row.from_id})
MATCH (b:Person {id: row.to_id})
CREATE (a)-[:LIAISES_WITH_MEMBER {key: row.key, since: row.since, until: row.until}]->(b)
