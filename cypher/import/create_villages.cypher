// New villages, each IN_TOWNSHIP its township.
UNWIND $rows AS row
CREATE (n:Village:Entity)
SET n = row
WITH n, row
MATCH (t:Township {id: row.township_id})
CREATE (n)-[:IN_TOWNSHIP]->(t)
