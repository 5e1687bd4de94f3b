// The audit of every active delegate on $as_of (graphsvc.rules.delegate_audit), ordered by id.
// A person's township: township_id, else their village's, else their organisation's (its
// township_id, or its village's township); their village: village_id, else their organisation's.
// Scope ($township_id, $village_id, each null for all) selects rows, never changes them.
// with $ids (a list, or null for all): only those people
CALL () {
  UNWIND coalesce($ids, []) AS pid
  MATCH (d:Person {id: pid}) WHERE d:Delegate
  RETURN d
  UNION
  UNWIND CASE WHEN $ids IS NULL THEN [1] ELSE [] END AS everyone
  MATCH (d:Delegate)
  RETURN d
}
WITH d
WHERE 'delegate' IN d.roles
  AND (d.status = 'active' OR (d.inactive_since IS NOT NULL AND $as_of < d.inactive_since))
WITH d,
     coalesce(d.township_id,
              [(d)-[:IN_VILLAGE]->(pv:Village) | pv.township_id][0],
              [(d)-[:BELONGS_TO]->(o:Organization) |
                 coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0])][0])
       AS township_id
WHERE ($township_id IS NULL OR township_id = $township_id)
  AND ($village_id IS NULL
       OR coalesce(d.village_id, [(d)-[:BELONGS_TO]->(o:Organization) | o.village_id][0]) = $village_id)
// active committee members above
CALL (d) {
  MATCH (c)-[k:LIAISES_WITH_DELEGATE]->(d)
  WHERE (k.since IS NULL OR k.since <= $as_of) AND (k.until IS NULL OR $as_of < k.until)
    AND 'committee_member' IN c.roles
    AND (c.status = 'active' OR (c.inactive_since IS NOT NULL AND $as_of < c.inactive_since))
  WITH DISTINCT c ORDER BY c.id
  RETURN collect(c.id) AS committee_member_ids
}
// active members below, each with their active households
CALL (d) {
  MATCH (d)-[l:LIAISES_WITH_MEMBER]->(m)
  WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
    AND (m.status = 'active' OR (m.inactive_since IS NOT NULL AND $as_of < m.inactive_since))
  WITH DISTINCT m ORDER BY m.id
  CALL (m) {
    MATCH (m)-[r:LIAISES_WITH_HOUSEHOLD]->(h:Household)
    WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
      AND (h.status = 'active' OR (h.inactive_since IS NOT NULL AND $as_of < h.inactive_since))
    RETURN collect(DISTINCT h) AS households
  }
  RETURN collect(m.id) AS member_ids,
         collect(CASE WHEN size(households) < $households_per_member THEN m.id END) AS members_short,
         collect(households) AS households_per_member
}
CALL (households_per_member) {
  UNWIND households_per_member AS households
  UNWIND households AS h
  WITH DISTINCT h
  RETURN count(h) AS households_reached,
         count(CASE WHEN any(c IN coalesce(h.categories, []) WHERE c IN $focus_categories) THEN 1 END)
           AS focus_households_reached
}
WITH d, township_id, committee_member_ids, member_ids, members_short,
     households_reached, focus_households_reached,
     [p IN [CASE WHEN size(committee_member_ids) = 0 THEN 'no_committee_member' END,
            CASE WHEN size(member_ids) < $min_members_per_delegate THEN 'too_few_members' END,
            CASE WHEN size(members_short) > 0 THEN 'members_short' END] WHERE p IS NOT NULL] AS problems
RETURN d.id AS delegate_id, d.name AS name, township_id, committee_member_ids, member_ids,
       size(member_ids) AS member_count, households_reached, focus_households_reached,
       members_short, problems, CASE WHEN size(problems) = 0 THEN 'ok' ELSE 'gap' END AS status
ORDER BY delegate_id
