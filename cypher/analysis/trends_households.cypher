// Coverage over time (graphsvc.analysis.trends): the households in scope, each with what its
// status on any date depends on, read once for every step.
// Scope: $household_ids (a list, or null), else the households of $village_id, else of the
// villages of $township_id, else all; $village_id and $township_id narrow any scope.
// Per household (dates as YYYY-MM-DD text: the driver's date objects are slow to decode
// in bulk): its record fields, its member-household liaisons as [member id, since,
// until] (at any time: the sweep decides which count on each step), and the dates of its
// contacts from $first to $last (by anyone; the caller sorts them and drops repeats).
CALL () {
  UNWIND coalesce($household_ids, []) AS hid
  MATCH (h:Household {id: hid})
  RETURN h
  UNION
  UNWIND CASE WHEN $household_ids IS NULL AND $village_id IS NOT NULL
              THEN [$village_id] ELSE [] END AS vid
  MATCH (:Village {id: vid})<-[:IN_VILLAGE]-(h:Household)
  RETURN h
  UNION
  UNWIND CASE WHEN $household_ids IS NULL AND $village_id IS NULL AND $township_id IS NOT NULL
              THEN [$township_id] ELSE [] END AS tid
  MATCH (v:Village) WHERE v.township_id = tid
  MATCH (v)<-[:IN_VILLAGE]-(h:Household)
  RETURN h
  UNION
  UNWIND CASE WHEN $household_ids IS NULL AND $village_id IS NULL AND $township_id IS NULL
              THEN [1] ELSE [] END AS everyone
  MATCH (h:Household)
  RETURN h
}
WITH h, [(h)-[:IN_VILLAGE]->(v:Village) | v.township_id][0] AS township_id
WHERE ($village_id IS NULL OR h.village_id = $village_id)
  AND ($township_id IS NULL OR township_id = $township_id)
RETURN h.id AS id, h.village_id AS village_id, township_id,
       coalesce(h.categories, []) AS categories, coalesce(h.status, 'active') AS status,
       toString(h.inactive_since) AS inactive_since,
       [(m)-[l:LIAISES_WITH_HOUSEHOLD]->(h) | [m.id, toString(l.since), toString(l.until)]] AS members,
       [()-[c:CONTACTED]->(h) WHERE $first <= c.date <= $last | toString(c.date)] AS contacts
