// New people; role labels (:CommitteeMember, :Delegate, :Cadre) from the roles list.
UNWIND $rows AS row
CREATE (n:Person:Entity)
SET n = row,
    n:$([r IN row.roles | CASE r WHEN 'committee_member' THEN 'CommitteeMember'
                                 WHEN 'delegate' THEN 'Delegate' ELSE 'Cadre' END])
WITH n, row
CALL (n, row) { MATCH (o:Organization {id: row.organization_id}) CREATE (n)-[:BELONGS_TO]->(o) }
CALL (n, row) { MATCH (t:Township {id: row.township_id}) CREATE (n)-[:IN_TOWNSHIP]->(t) }
CALL (n, row) { MATCH (v:Village {id: row.village_id}) CREATE (n)-[:IN_VILLAGE]->(v) }
