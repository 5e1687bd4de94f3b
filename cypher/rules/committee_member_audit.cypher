// The audit of every active committee member on $as_of
// (graphsvc.rules.committee_member_audit), ordered by id.
// Township and village of a person as in delegate_audit.cypher; scope selects rows only.
// with $ids (a list, or null for all): only those people
CALL () {
  UNWIND coalesce($ids, []) AS pid
  MATCH (c:Person {id: pid}) WHERE c:CommitteeMember
  RETURN c
  UNION
  UNWIND CASE WHEN $ids IS NULL THEN [1] ELSE [] END AS everyone
  MATCH (c:CommitteeMember)
  RETURN c
}
WITH c
WHERE 'committee_member' IN c.roles
  AND (c.status = 'active' OR (c.inactive_since IS NOT NULL AND $as_of < c.inactive_since))
WITH c,
     coalesce(c.township_id,
              [(c)-[:IN_VILLAGE]->(pv:Village) | pv.township_id][0],
              [(c)-[:BELONGS_TO]->(o:Organization) |
                 coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0])][0])
       AS township_id
WHERE ($township_id IS NULL OR township_id = $township_id)
  AND ($village_id IS NULL
       OR coalesce(c.village_id, [(c)-[:BELONGS_TO]->(o:Organization) | o.village_id][0]) = $village_id)
// active delegates below (sorted)
CALL (c) {
  MATCH (c)-[k:LIAISES_WITH_DELEGATE]->(d)
  WHERE (k.since IS NULL OR k.since <= $as_of) AND (k.until IS NULL OR $as_of < k.until)
    AND 'delegate' IN d.roles
    AND (d.status = 'active' OR (d.inactive_since IS NOT NULL AND $as_of < d.inactive_since))
  WITH DISTINCT d ORDER BY d.id
  RETURN collect(d) AS delegates
}
// distinct active households down the chain through active members
CALL (delegates) {
  UNWIND delegates AS d
  MATCH (d)-[l:LIAISES_WITH_MEMBER]->(m)-[r:LIAISES_WITH_HOUSEHOLD]->(h:Household)
  WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
    AND (m.status = 'active' OR (m.inactive_since IS NOT NULL AND $as_of < m.inactive_since))
    AND (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
    AND (h.status = 'active' OR (h.inactive_since IS NOT NULL AND $as_of < h.inactive_since))
  RETURN count(DISTINCT h) AS households_reached
}
RETURN c.id AS committee_member_id, c.name AS name, township_id,
       [d IN delegates | d.id] AS delegate_ids, size(delegates) AS delegate_count, households_reached,
       CASE WHEN size(delegates) < $min_delegates_per_committee_member
            THEN ['too_few_delegates'] ELSE [] END AS problems
ORDER BY committee_member_id
