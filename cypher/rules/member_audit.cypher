// The audit of every active person in the chain as a member on $as_of
// (graphsvc.rules.member_audit): those with a counting delegate-member liaison to them or a
// counting member-household liaison to an active household; ordered by id.
// Township and village of a person as in delegate_audit.cypher; scope selects rows only.
// candidates: the whole county, everyone a liaison points to or starts from; in a township
// or village, everyone placed there by their own record, their village or their organisation
// (a superset: the township rule below decides); with $ids (a list, or null for all), only
// those people
CALL () {
  UNWIND coalesce($ids, []) AS pid
  MATCH (m:Person {id: pid})
  RETURN m
  UNION
  UNWIND CASE WHEN $ids IS NULL AND $township_id IS NULL AND $village_id IS NULL THEN [1] ELSE [] END AS everyone
  MATCH ()-[:LIAISES_WITH_MEMBER]->(m:Person)
  RETURN m
  UNION
  UNWIND CASE WHEN $ids IS NULL AND $township_id IS NULL AND $village_id IS NULL THEN [1] ELSE [] END AS everyone
  MATCH (m:Person)-[:LIAISES_WITH_HOUSEHOLD]->()
  RETURN m
  UNION
  UNWIND CASE WHEN $ids IS NULL AND $village_id IS NULL THEN [$township_id] ELSE [] END AS tid
  MATCH (:Township {id: tid})<-[:IN_TOWNSHIP]-(m:Person)
  RETURN m
  UNION
  UNWIND CASE WHEN $ids IS NULL AND ($township_id IS NOT NULL OR $village_id IS NOT NULL) THEN [1] ELSE [] END AS scoped
  MATCH (v:Village)
  WHERE v.id = $village_id OR ($village_id IS NULL AND v.township_id = $township_id)
  MATCH (v)<-[:IN_VILLAGE]-(m:Person)
  RETURN m
  UNION
  UNWIND CASE WHEN $ids IS NULL AND ($township_id IS NOT NULL OR $village_id IS NOT NULL) THEN [1] ELSE [] END AS scoped
  MATCH (o:Organization)
  WHERE o.village_id = $village_id
     OR ($village_id IS NULL
         AND coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0]) = $township_id)
  MATCH (o)<-[:BELONGS_TO]-(m:Person)
  RETURN m
}
WITH m
WHERE m.status = 'active' OR (m.inactive_since IS NOT NULL AND $as_of < m.inactive_since)
WITH m,
     coalesce(m.township_id,
              [(m)-[:IN_VILLAGE]->(pv:Village) | pv.township_id][0],
              [(m)-[:BELONGS_TO]->(o:Organization) |
                 coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0])][0])
       AS township_id
WHERE ($township_id IS NULL OR township_id = $township_id)
  AND ($village_id IS NULL
       OR coalesce(m.village_id, [(m)-[:BELONGS_TO]->(o:Organization) | o.village_id][0]) = $village_id)
// everyone with a counting liaison to them, and the active delegates among them (sorted)
CALL (m) {
  MATCH (x)-[l:LIAISES_WITH_MEMBER]->(m)
  WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
  WITH DISTINCT x ORDER BY x.id
  RETURN count(x) AS above,
         collect(CASE WHEN 'delegate' IN x.roles
                           AND (x.status = 'active' OR (x.inactive_since IS NOT NULL AND $as_of < x.inactive_since))
                      THEN x.id END) AS delegate_ids
}
CALL (m) {
  MATCH (m)-[r:LIAISES_WITH_HOUSEHOLD]->(h:Household)
  WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
    AND (h.status = 'active' OR (h.inactive_since IS NOT NULL AND $as_of < h.inactive_since))
  RETURN count(DISTINCT h) AS household_count
}
WITH m, township_id, above, delegate_ids, household_count
WHERE above > 0 OR household_count > 0
RETURN m.id AS member_id, m.name AS name, township_id, household_count, delegate_ids,
       [p IN [CASE WHEN size(delegate_ids) = 0 THEN 'no_delegate' END,
              CASE WHEN household_count < $households_per_member THEN 'too_few_households' END]
        WHERE p IS NOT NULL] AS problems
ORDER BY member_id
