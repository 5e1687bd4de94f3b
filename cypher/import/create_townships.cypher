// New townships (ids not yet stored): CREATE, cheaper than MERGE.
UNWIND $rows AS row
CREATE (n:Township:Entity)
SET n = row
