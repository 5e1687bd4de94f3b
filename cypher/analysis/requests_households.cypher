// Requests up the chain (graphsvc.analysis.requests): the households in scope, each with
// what its requests and their routing depend on.
// Scope: $household_ids (a list, or null), else the households of $village_id, else of the
// villages of $township_id, else all; $village_id and $township_id narrow any scope.
// Per household (dates as YYYY-MM-DD text: the driver's date objects are slow to decode
// in bulk): its record fields, its member-household liaisons as [member id, since,
// until] (at any time), the contacts with a request dated on or before $last as
// [person id, date, request, resolved] (the request text as stored; blank ones are dropped
// by the caller), and the cadres supporting it as [cadre id, since, until].
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
       [(p)-[c:CONTACTED]->(h) WHERE c.request IS NOT NULL AND c.date <= $last
          | [p.id, toString(c.date), c.request, coalesce(c.resolved, false)]] AS requests,
       [(k)-[s:SUPPORTS]->(h) | [k.id, toString(s.since), toString(s.until)]] AS supports
