// New households, each IN_VILLAGE its village.
UNWIND $rows AS row
CREATE (n:Household:Entity)
SET n = row
WITH n, row
MATCH (v:Village {id: row.village_id})
CREATE (n)-[:IN_VILLAGE]->(v)
