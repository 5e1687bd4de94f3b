// New liaisons_committee_member_delegate rows (key not yet stored): CREATE, cheaper than MERGE.
UNWIND $rows AS row
MATCH (a:Person {id: row.from_id})
MATCH (b:Person {id: row.to_id})
CREATE (a)-[:LIAISES_WITH_DELEGATE {key: row.key, since: row.since, until: row.until}]->(b)
