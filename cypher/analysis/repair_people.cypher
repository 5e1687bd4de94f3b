// What a repair plan needs to know of people on $as_of (graphsvc.analysis.repair.people_facts,
// the NetworkX reference _facts_graph): every active person who is a committee member, or is
// among $ids, or lies in one of $township_ids (null: every township; [] none) and is a delegate
// or in the chain as a member (a counting delegate-member liaison to them from anyone, or a
// counting member-household liaison to an active household).
// For each: roles, village (own, else their organisation's), township (as in
// rules/member_audit.cypher), load (active households they liaise with), the active delegates
// and committee members above them, the active people and delegates below them (ids, sorted in
// Python), in_chain.
CALL () {
  UNWIND CASE WHEN $township_ids IS NULL THEN [1] ELSE [] END AS everyone
  MATCH ()-[:LIAISES_WITH_MEMBER]->(p:Person)
  RETURN p, 0 AS wanted
  UNION
  UNWIND CASE WHEN $township_ids IS NULL THEN [1] ELSE [] END AS everyone
  MATCH (p:Person)-[:LIAISES_WITH_HOUSEHOLD]->()
  RETURN p, 0 AS wanted
  UNION
  UNWIND CASE WHEN $township_ids IS NULL THEN [1] ELSE [] END AS everyone
  MATCH (p:Delegate)
  RETURN p, 0 AS wanted
  UNION
  MATCH (p:CommitteeMember)
  RETURN p, 0 AS wanted
  UNION
  UNWIND $ids AS pid
  MATCH (p:Person {id: pid})
  RETURN p, 1 AS wanted
  UNION
  // people placed in the townships by their own record, their village or their organisation
  // (a superset: the township rule below decides)
  UNWIND coalesce($township_ids, []) AS tid
  MATCH (:Township {id: tid})<-[:IN_TOWNSHIP]-(p:Person)
  RETURN p, 0 AS wanted
  UNION
  UNWIND coalesce($township_ids, []) AS tid
  MATCH (v:Village) WHERE v.township_id = tid
  MATCH (v)<-[:IN_VILLAGE]-(p:Person)
  RETURN p, 0 AS wanted
  UNION
  UNWIND coalesce($township_ids, []) AS tid
  MATCH (o:Organization)
  WHERE coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0]) = tid
  MATCH (o)<-[:BELONGS_TO]-(p:Person)
  RETURN p, 0 AS wanted
}
WITH p, max(wanted) AS wanted
WHERE p.status = 'active' OR (p.inactive_since IS NOT NULL AND $as_of < p.inactive_since)
WITH p, wanted,
     CASE WHEN p.township_id IS NOT NULL THEN p.township_id ELSE coalesce(
              [(p)-[:IN_VILLAGE]->(pv:Village) | pv.township_id][0],
              [(p)-[:BELONGS_TO]->(o:Organization) |
                 coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0])][0]) END
       AS township_id
CALL (p) {
  MATCH (p)-[r:LIAISES_WITH_HOUSEHOLD]->(h:Household)
  WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
    AND (h.status = 'active' OR (h.inactive_since IS NOT NULL AND $as_of < h.inactive_since))
  RETURN count(DISTINCT h) AS load
}
WITH p, wanted, township_id, load,
     EXISTS {
       MATCH ()-[l:LIAISES_WITH_MEMBER]->(p)
       WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
     } AS above
WHERE 'committee_member' IN p.roles OR wanted = 1
   OR (($township_ids IS NULL OR township_id IN $township_ids)
       AND ('delegate' IN p.roles OR above OR load > 0))
RETURN p.id AS id, coalesce(p.roles, []) AS roles,
       coalesce(p.village_id, [(p)-[:BELONGS_TO]->(o:Organization) | o.village_id][0]) AS village_id,
       township_id, load, above OR load > 0 AS in_chain,
       COLLECT {
         MATCH (d:Person)-[l:LIAISES_WITH_MEMBER]->(p)
         WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
           AND 'delegate' IN d.roles
           AND (d.status = 'active' OR (d.inactive_since IS NOT NULL AND $as_of < d.inactive_since))
         RETURN DISTINCT d.id
       } AS delegates,
       COLLECT {
         MATCH (c:Person)-[k:LIAISES_WITH_DELEGATE]->(p)
         WHERE (k.since IS NULL OR k.since <= $as_of) AND (k.until IS NULL OR $as_of < k.until)
           AND 'committee_member' IN c.roles
           AND (c.status = 'active' OR (c.inactive_since IS NOT NULL AND $as_of < c.inactive_since))
         RETURN DISTINCT c.id
       } AS cms,
       COLLECT {
         MATCH (p)-[l:LIAISES_WITH_MEMBER]->(m:Person)
         WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
           AND (m.status = 'active' OR (m.inactive_since IS NOT NULL AND $as_of < m.inactive_since))
         RETURN DISTINCT m.id
       } AS members,
       COLLECT {
         MATCH (p)-[k:LIAISES_WITH_DELEGATE]->(d:Person)
         WHERE (k.since IS NULL OR k.since <= $as_of) AND (k.until IS NULL OR $as_of < k.until)
           AND 'delegate' IN d.roles
           AND (d.status = 'active' OR (d.inactive_since IS NOT NULL AND $as_of < d.inactive_since))
         RETURN DISTINCT d.id
       } AS dels_below
