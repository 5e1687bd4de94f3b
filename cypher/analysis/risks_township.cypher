// Single points of failure on $as_of in one township $township_id: analysis/risks (read it
// first) for the households of the township's villages only, bottom-up from them, and only the
// people of the township listed (a person's township by DATA_FORMAT.md).
MATCH (v:Village) WHERE v.township_id = $township_id
MATCH (v)<-[:IN_VILLAGE]-(h:Household)
WHERE h.status = 'active' OR (h.inactive_since IS NOT NULL AND $as_of < h.inactive_since)
MATCH (m:Person)-[r:LIAISES_WITH_HOUSEHOLD]->(h)
WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
  AND (m.status = 'active' OR (m.inactive_since IS NOT NULL AND $as_of < m.inactive_since))
WITH m, collect(h) AS households
// what m holds: {m} and what every delegate above it holds
CALL (m) {
  MATCH (d:Person)-[l:LIAISES_WITH_MEMBER]->(m)
  WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
    AND 'delegate' IN d.roles
    AND (d.status = 'active' OR (d.inactive_since IS NOT NULL AND $as_of < d.inactive_since))
  CALL (d) {
    MATCH (c:Person)-[k:LIAISES_WITH_DELEGATE]->(d)
    WHERE (k.since IS NULL OR k.since <= $as_of) AND (k.until IS NULL OR $as_of < k.until)
      AND 'committee_member' IN c.roles
      AND (c.status = 'active' OR (c.inactive_since IS NOT NULL AND $as_of < c.inactive_since))
    RETURN collect(DISTINCT c.id) AS cms
  }
  WITH d, cms WHERE size(cms) > 0
  RETURN collect(CASE WHEN size(cms) = 1 AND cms[0] <> d.id THEN [d.id, cms[0]] ELSE [d.id] END)
           AS above
}
WITH m, households, above WHERE size(above) > 0
// each list holds a person once, as in analysis/risks
WITH households, [m.id] + [x IN reduce(acc = head(above), s IN tail(above) | [x IN acc WHERE x IN s])
                           WHERE x <> m.id] AS held
UNWIND households AS h
// the people every member of h holds
WITH h, collect(held) AS helds
WITH h, CASE WHEN size(helds) = 1 THEN helds[0]
             ELSE reduce(acc = head(helds), s IN tail(helds) | [x IN acc WHERE x IN s]) END AS common
WITH common, any(c IN coalesce(h.categories, []) WHERE c IN $focus_categories) AS focus
UNWIND common AS pid
WITH pid, count(*) AS lost, count(CASE WHEN focus THEN 1 END) AS focus_lost
// only the township's people, ranked and paged as in analysis/risks
MATCH (p:Person {id: pid})
WITH p, lost, focus_lost, CASE WHEN p.township_id IS NOT NULL THEN p.township_id
                      WHEN p.village_id IS NOT NULL AND EXISTS { MATCH (:Village {id: p.village_id}) }
                        THEN COLLECT { MATCH (pv:Village {id: p.village_id}) RETURN pv.township_id }[0]
                      ELSE COLLECT {
                        MATCH (o:Organization {id: p.organization_id})
                        RETURN coalesce(o.township_id,
                                        COLLECT { MATCH (ov:Village {id: o.village_id})
                                                  RETURN ov.township_id }[0])
                      }[0] END AS township_id
WHERE township_id = $township_id
WITH p, lost, focus_lost, lost - focus_lost + $focus_weight * focus_lost AS score
ORDER BY score DESC, p.id
WITH collect([p, lost, focus_lost, score]) AS ranked
CALL (ranked) {
  UNWIND CASE WHEN $limit IS NULL THEN ranked[$offset..] ELSE ranked[$offset..$offset + $limit] END
    AS r
  WITH r, r[0] AS p
  RETURN collect({person_id: p.id, name: p.name, roles: coalesce(p.roles, []),
                  township_id: $township_id,
                  households_lost: r[1], focus_households_lost: r[2], score: r[3]}) AS page
}
RETURN size(ranked) AS total, page
