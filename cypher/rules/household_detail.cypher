// One household with everyone who supports it on $as_of (graphsvc.rules.household_detail,
// without the status row, which comes from household_statuses). No row: no such household.
// chains: each member with a counting liaison to it (by id), the delegates (role delegate,
// any status) with a counting liaison to that member, the committee members likewise above
// those; people: id, name, roles, active, township of everyone named in chains and cadres.
MATCH (h:Household {id: $household_id})
OPTIONAL MATCH (h)-[:IN_VILLAGE]->(v:Village)
CALL (h) {
  MATCH (m)-[l:LIAISES_WITH_HOUSEHOLD]->(h)
  WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
  WITH DISTINCT m ORDER BY m.id
  CALL (m) {
    MATCH (d)-[l:LIAISES_WITH_MEMBER]->(m)
    WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
      AND 'delegate' IN d.roles
    WITH DISTINCT d ORDER BY d.id
    CALL (d) {
      MATCH (c)-[k:LIAISES_WITH_DELEGATE]->(d)
      WHERE (k.since IS NULL OR k.since <= $as_of) AND (k.until IS NULL OR $as_of < k.until)
        AND 'committee_member' IN c.roles
      WITH DISTINCT c ORDER BY c.id
      RETURN collect(c) AS committee_members
    }
    RETURN collect({delegate: d, committee_members: committee_members}) AS delegates
  }
  RETURN collect({member: m, delegates: delegates}) AS chains
}
CALL (h) {
  MATCH (p)-[s:SUPPORTS]->(h)
  WHERE (s.since IS NULL OR s.since <= $as_of) AND (s.until IS NULL OR $as_of < s.until)
  WITH p, s ORDER BY p.id
  RETURN collect({cadre: p, since: s.since, until: s.until}) AS cadres
}
CALL (v) {
  MATCH (u)-[r:PAIRED_WITH]->(v)
  WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
  WITH u, r ORDER BY u.id
  RETURN collect({id: u.id, name: u.name, sector: u.sector, since: r.since, until: r.until}) AS units
}
// latest first; equal contacts keep the order of their keys (as the embedded store lists them)
CALL (h) {
  MATCH (p)-[c:CONTACTED]->(h)
  WHERE c.date <= $as_of
  WITH p, c
  ORDER BY c.date DESC, p.id DESC, coalesce(c.channel, '') DESC, coalesce(c.request, '') DESC, c.key
  LIMIT $recent
  RETURN collect({person_id: p.id, person_name: p.name, date: c.date, channel: c.channel,
                  request: c.request, resolved: c.resolved}) AS contacts
}
CALL (chains, cadres) {
  UNWIND [x IN chains | x.member]
         + reduce(acc = [], x IN chains |
                  acc + reduce(a2 = [], y IN x.delegates | a2 + [y.delegate] + y.committee_members))
         + [x IN cadres | x.cadre] AS p
  WITH DISTINCT p
  RETURN collect({id: p.id, name: p.name, roles: coalesce(p.roles, []),
                  active: p.status = 'active' OR (p.inactive_since IS NOT NULL AND $as_of < p.inactive_since),
                  township_id: coalesce(p.township_id,
                    [(p)-[:IN_VILLAGE]->(pv:Village) | pv.township_id][0],
                    [(p)-[:BELONGS_TO]->(o:Organization) |
                       coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0])][0])})
           AS people
}
RETURN properties(h) AS household, v.name AS village_name, v.township_id AS township_id,
       [x IN chains | {member_id: x.member.id,
                       delegates: [y IN x.delegates | {delegate_id: y.delegate.id,
                                                       committee_member_ids: [c IN y.committee_members | c.id]}]}]
         AS chains,
       [x IN cadres | {id: x.cadre.id, since: x.since, until: x.until}] AS cadres,
       units, contacts, people
