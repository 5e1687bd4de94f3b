// Upsert people by id. Role labels (:CommitteeMember, :Delegate, :Cadre) follow the roles list.
UNWIND $rows AS row
MERGE (n:Person {id: row.id})
SET n = row, n:Entity
FOREACH (_ IN CASE WHEN 'committee_member' IN row.roles THEN [1] ELSE [] END | SET n:CommitteeMember)
FOREACH (_ IN CASE WHEN 'committee_member' IN row.roles THEN [] ELSE [1] END | REMOVE n:CommitteeMember)
FOREACH (_ IN CASE WHEN 'delegate' IN row.roles THEN [1] ELSE [] END | SET n:Delegate)
FOREACH (_ IN CASE WHEN 'delegate' IN row.roles THEN [] ELSE [1] END | REMOVE n:Delegate)
FOREACH (_ IN CASE WHEN 'cadre' IN row.roles THEN [1] ELSE [] END | SET n:Cadre)
FOREACH (_ IN CASE WHEN 'cadre' IN row.roles THEN [] ELSE [1] END | REMOVE n:Cadre)
WITH n, row
CALL (n) { MATCH (n)-[old:BELONGS_TO|IN_TOWNSHIP|IN_VILLAGE]->() DELETE old }
CALL (n, row) { MATCH (o:Organization {id: row.organization_id}) CREATE (n)-[:BELONGS_TO]->(o) }
CALL (n, row) { MATCH (t:Township {id: row.township_id}) CREATE (n)-[:IN_TOWNSHIP]->(t) }
CALL (n, row) { MATCH (v:Village {id: row.village_id}) CREATE (n)-[:IN_VILLAGE]->(v) }
