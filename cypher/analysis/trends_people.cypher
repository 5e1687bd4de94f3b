// The people $ids (a list) as the chain analyses (graphsvc.analysis.trends and .requests)
// need them: roles, status, inactive_since (dates as YYYY-MM-DD text, here and below), their township by the rule of DATA_FORMAT.md
// (township_id, else their village's, else their organisation's: its township_id or its
// village's), and the liaisons into them at any time as [from id, since, until]:
// delegate-member liaisons (`delegates`) and committee_member-delegate ones
// (`committee_members`).
UNWIND $ids AS pid
MATCH (p:Person {id: pid})
RETURN p.id AS id, coalesce(p.roles, []) AS roles, coalesce(p.status, 'active') AS status,
       toString(p.inactive_since) AS inactive_since,
       coalesce(p.township_id,
                [(p)-[:IN_VILLAGE]->(pv:Village) | pv.township_id][0],
                [(p)-[:BELONGS_TO]->(o:Organization) |
                   coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0])][0]
       ) AS township_id,
       [(d)-[l:LIAISES_WITH_MEMBER]->(p) | [d.id, toString(l.since), toString(l.until)]] AS delegates,
       [(c)-[k:LIAISES_WITH_DELEGATE]->(p) | [c.id, toString(k.since), toString(k.until)]] AS committee_members
