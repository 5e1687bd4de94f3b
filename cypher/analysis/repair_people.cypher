// What a repair plan needs to know of people on $as_of (graphsvc.analysis.repair.people_facts,
// the NetworkX reference _facts_graph): every active person who is a committee member, or is
// among $ids, or lies in one of $township_ids (null: every township; [] none) and is a delegate
// or in the chain as a member (a counting delegate-member liaison to them from anyone, or a
// counting member-household liaison to an active household).
// For each: roles, village (own, else their organisation's), township (own, else their
// village's, else their organisation's or its village's: DATA_FORMAT.md), load (active
// households they liaise with), the active delegates and committee members above them, the
// active people and delegates below them (ids; sorted in Python), in_chain.
// A person's liaisons are read in one pass over their relationships; places by id (index
// seeks), not by walking a person's relationships again.
CALL () {
  UNWIND CASE WHEN $township_ids IS NULL THEN [1] ELSE [] END AS everyone
  MATCH ()-[:LIAISES_WITH_MEMBER]->(p:Person)
  RETURN p, 0 AS wanted
  UNION
  UNWIND CASE WHEN $township_ids IS NULL THEN [1] ELSE [] END AS everyone
  MATCH (p)-[:LIAISES_WITH_HOUSEHOLD]->()
  RETURN DISTINCT p, 0 AS wanted
  UNION
  UNWIND CASE WHEN $township_ids IS NULL THEN [1] ELSE [] END AS everyone
  MATCH (p:Delegate)
  RETURN p, 0 AS wanted
  UNION
  MATCH (p:CommitteeMember)
  RETURN p, 0 AS wanted
  UNION
  UNWIND $ids AS pid
  MATCH (p:Person {id: pid})
  RETURN p, 1 AS wanted
  UNION
  // people placed in the townships by their own record, their village or their organisation
  // (a superset: the township rule below decides)
  UNWIND coalesce($township_ids, []) AS tid
  MATCH (:Township {id: tid})<-[:IN_TOWNSHIP]-(p:Person)
  RETURN p, 0 AS wanted
  UNION
  UNWIND coalesce($township_ids, []) AS tid
  MATCH (v:Village) WHERE v.township_id = tid
  MATCH (v)<-[:IN_VILLAGE]-(p:Person)
  RETURN p, 0 AS wanted
  UNION
  UNWIND coalesce($township_ids, []) AS tid
  MATCH (o:Organization)
  WHERE coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0]) = tid
  MATCH (o)<-[:BELONGS_TO]-(p:Person)
  RETURN p, 0 AS wanted
}
WITH p, max(wanted) AS wanted
WHERE p.status = 'active' OR (p.inactive_since IS NOT NULL AND $as_of < p.inactive_since)
// the person's counting liaisons, both ways: [type, outgoing, the other end]
CALL (p) {
  MATCH (p)-[r:LIAISES_WITH_HOUSEHOLD|LIAISES_WITH_MEMBER|LIAISES_WITH_DELEGATE]-(x)
  WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
  RETURN collect([type(r), startNode(r) = p, x]) AS links
}
WITH p, wanted, links,
     size([l IN links WHERE l[0] = 'LIAISES_WITH_HOUSEHOLD' AND l[1]
           AND (l[2].status = 'active' OR (l[2].inactive_since IS NOT NULL AND $as_of < l[2].inactive_since))]) AS load,
     any(l IN links WHERE l[0] = 'LIAISES_WITH_MEMBER' AND NOT l[1]) AS above
WITH p, wanted, links, load, above,
     CASE WHEN p.township_id IS NOT NULL THEN p.township_id
          WHEN p.village_id IS NOT NULL
               AND EXISTS { MATCH (:Village {id: p.village_id}) }
            THEN COLLECT { MATCH (pv:Village {id: p.village_id}) RETURN pv.township_id }[0]
          ELSE COLLECT {
            MATCH (o:Organization {id: p.organization_id})
            RETURN coalesce(o.township_id,
                            COLLECT { MATCH (ov:Village {id: o.village_id}) RETURN ov.township_id }[0])
          }[0] END AS township_id
WHERE 'committee_member' IN p.roles OR wanted = 1
   OR (($township_ids IS NULL OR township_id IN $township_ids)
       AND ('delegate' IN p.roles OR above OR load > 0))
WITH p, links, load, above, township_id,
     [l IN links WHERE l[2].status = 'active' OR (l[2].inactive_since IS NOT NULL AND $as_of < l[2].inactive_since)] AS live
// one row holding every person (a result of many rows comes in batches, a round trip each), each
// as [id, roles, village_id, township_id, load, in_chain, delegates, cms, members, dels_below]
RETURN collect([
       p.id, coalesce(p.roles, []),
       coalesce(p.village_id,
                COLLECT { MATCH (o:Organization {id: p.organization_id}) RETURN o.village_id }[0]),
       township_id, load, above OR load > 0,
       [l IN live WHERE l[0] = 'LIAISES_WITH_MEMBER' AND NOT l[1]
                        AND 'delegate' IN l[2].roles | l[2].id],
       [l IN live WHERE l[0] = 'LIAISES_WITH_DELEGATE' AND NOT l[1]
                        AND 'committee_member' IN l[2].roles | l[2].id],
       [l IN live WHERE l[0] = 'LIAISES_WITH_MEMBER' AND l[1] | l[2].id],
       [l IN live WHERE l[0] = 'LIAISES_WITH_DELEGATE' AND l[1]
                        AND 'delegate' IN l[2].roles | l[2].id]
     ]) AS people
