// Single points of failure on $as_of, the whole county (Store.risk_page for graphsvc.analysis.risks;
// the NetworkX reference graphsvc.stores.graphreads.risk_page; analysis/risks_township is the same for one township): for every active household
// whose chain holds (covered or stale), the people present in EVERY valid chain of it
// (committee member -> delegate -> member, all active, liaisons counting, roles as stored);
// per person, how many such households and focus households ($focus_categories) depend on them.
// Top-down, nothing listed chain by chain, each delegate and member looked at once:
//   a delegate holds {d} and, when it has exactly one committee member, that one too;
//   a member holds {m} and what every delegate above it holds (the intersection);
//   a household depends on what every member of it holds (the intersection).
// Each list holds a person once (made so at the member, 33,000 rows at 10 counties, so the
// households' lists need no DISTINCT over their 280,000 (household, person) rows), and whether a
// household is a focus household is read once per household, before the lists are unwound.
// A person's township by DATA_FORMAT.md (own, else their village's, else their organisation's).
MATCH (c:Person)-[k:LIAISES_WITH_DELEGATE]->(d:Person)
WHERE (k.since IS NULL OR k.since <= $as_of) AND (k.until IS NULL OR $as_of < k.until)
  AND 'committee_member' IN c.roles
  AND (c.status = 'active' OR (c.inactive_since IS NOT NULL AND $as_of < c.inactive_since))
  AND 'delegate' IN d.roles
  AND (d.status = 'active' OR (d.inactive_since IS NOT NULL AND $as_of < d.inactive_since))
WITH d, collect(DISTINCT c.id) AS cms
WITH d, CASE WHEN size(cms) = 1 AND cms[0] <> d.id THEN [d.id, cms[0]] ELSE [d.id] END AS held
MATCH (d)-[l:LIAISES_WITH_MEMBER]->(m:Person)
WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
  AND (m.status = 'active' OR (m.inactive_since IS NOT NULL AND $as_of < m.inactive_since))
WITH m, collect(held) AS above
WITH m, [m.id] + [x IN reduce(acc = head(above), s IN tail(above) | [x IN acc WHERE x IN s])
                  WHERE x <> m.id] AS held
MATCH (m)-[r:LIAISES_WITH_HOUSEHOLD]->(h:Household)
WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
  AND (h.status = 'active' OR (h.inactive_since IS NOT NULL AND $as_of < h.inactive_since))
WITH h, collect(held) AS helds
WITH h, CASE WHEN size(helds) = 1 THEN helds[0]
             ELSE reduce(acc = head(helds), s IN tail(helds) | [x IN acc WHERE x IN s]) END AS common
WITH common, any(c IN coalesce(h.categories, []) WHERE c IN $focus_categories) AS focus
UNWIND common AS pid
WITH pid, count(*) AS lost, count(CASE WHEN focus THEN 1 END) AS focus_lost
// ranked by score (a focus household counts $focus_weight times), then by id; one page of
// it ($offset, $limit; null: to the end) with the people's names, roles and townships
WITH pid, lost, focus_lost, lost - focus_lost + $focus_weight * focus_lost AS score
ORDER BY score DESC, pid
WITH collect([pid, lost, focus_lost, score]) AS ranked
CALL (ranked) {
  UNWIND CASE WHEN $limit IS NULL THEN ranked[$offset..] ELSE ranked[$offset..$offset + $limit] END
    AS r
  MATCH (p:Person {id: r[0]})
  RETURN collect({person_id: p.id, name: p.name, roles: coalesce(p.roles, []),
                  township_id: CASE WHEN p.township_id IS NOT NULL THEN p.township_id
                        WHEN p.village_id IS NOT NULL AND EXISTS { MATCH (:Village {id: p.village_id}) }
                          THEN COLLECT { MATCH (pv:Village {id: p.village_id}) RETURN pv.township_id }[0]
                        ELSE COLLECT {
                          MATCH (o:Organization {id: p.organization_id})
                          RETURN coalesce(o.township_id,
                                          COLLECT { MATCH (ov:Village {id: o.village_id})
                                                    RETURN ov.township_id }[0])
                        }[0] END,
                  households_lost: r[1], focus_households_lost: r[2], score: r[3]}) AS page
}
RETURN size(ranked) AS total, page
