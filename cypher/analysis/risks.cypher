// Single points of failure on $as_of, the whole county (graphsvc.analysis.risks, the NetworkX
// reference; analysis/risks_township is the same for one township): for every active household
// whose chain holds (covered or stale), the people present in EVERY valid chain of it
// (committee member -> delegate -> member, all active, liaisons counting, roles as stored);
// per person, how many such households and focus households ($focus_categories) depend on them.
// Top-down, nothing listed chain by chain, each delegate and member looked at once:
//   a delegate holds {d} and, when it has exactly one committee member, that one too;
//   a member holds {m} and what every delegate above it holds (the intersection);
//   a household depends on what every member of it holds (the intersection).
// A person's township as in rules/member_audit.cypher.
MATCH (c:Person)-[k:LIAISES_WITH_DELEGATE]->(d:Person)
WHERE (k.since IS NULL OR k.since <= $as_of) AND (k.until IS NULL OR $as_of < k.until)
  AND 'committee_member' IN c.roles
  AND (c.status = 'active' OR (c.inactive_since IS NOT NULL AND $as_of < c.inactive_since))
  AND 'delegate' IN d.roles
  AND (d.status = 'active' OR (d.inactive_since IS NOT NULL AND $as_of < d.inactive_since))
WITH d, collect(DISTINCT c.id) AS cms
WITH d, CASE WHEN size(cms) = 1 THEN [d.id, cms[0]] ELSE [d.id] END AS held
MATCH (d)-[l:LIAISES_WITH_MEMBER]->(m:Person)
WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
  AND (m.status = 'active' OR (m.inactive_since IS NOT NULL AND $as_of < m.inactive_since))
WITH m, collect(held) AS above
WITH m, [m.id] + reduce(acc = head(above), s IN tail(above) | [x IN acc WHERE x IN s]) AS held
MATCH (m)-[r:LIAISES_WITH_HOUSEHOLD]->(h:Household)
WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
  AND (h.status = 'active' OR (h.inactive_since IS NOT NULL AND $as_of < h.inactive_since))
// the people every member of h holds
WITH h, collect(held) AS helds
WITH h, reduce(acc = head(helds), s IN tail(helds) | [x IN acc WHERE x IN s]) AS common
UNWIND common AS pid
WITH DISTINCT h, pid
WITH pid, count(h) AS lost,
     count(CASE WHEN any(c IN coalesce(h.categories, []) WHERE c IN $focus_categories) THEN 1 END)
       AS focus_lost
MATCH (p:Person {id: pid})
WITH p, lost, focus_lost,
     CASE WHEN p.township_id IS NOT NULL THEN p.township_id ELSE coalesce(
              [(p)-[:IN_VILLAGE]->(pv:Village) | pv.township_id][0],
              [(p)-[:BELONGS_TO]->(o:Organization) |
                 coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0])][0]) END
       AS township_id
RETURN p.id AS person_id, p.name AS name, coalesce(p.roles, []) AS roles, township_id,
       lost AS households_lost, focus_lost AS focus_households_lost
