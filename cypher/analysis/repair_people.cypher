// What a repair plan needs to know of people on $as_of (Store.repair_people, the NetworkX
// reference graphsvc.stores.graphreads.repair_people): every active person who is a committee member, or is
// among $ids, or lies in one of $township_ids (null: every township; [] none) and is a delegate
// or in the chain as a member (a counting delegate-member liaison to them from anyone, or a
// counting member-household liaison to an active household).
// Compact: this statement finds the candidates (a superset for $township_ids) and reads each
// one's counting liaisons in ONE pass over their relationships, counted and collected in the
// same aggregation (load: active households they liaise with; above: a counting
// delegate-member liaison to them; the active delegates and committee members above them, the
// active people and delegates below them: ids, sorted in Python). Places are NOT resolved here:
// each person comes with their own village_id, township_id and organization_id, and the
// statement's one row carries every village [id, township_id] and organisation
// [id, township_id, village_id]; Python applies DATA_FORMAT.md's rule (own township, else
// their village's, else their organisation's or its village's) with two dicts and the
// township filter, instead of index seeks per person here.
CALL () {
  // the county: everyone who may be in the chain, by label and by degree (no row per liaison)
  UNWIND CASE WHEN $township_ids IS NULL THEN [1] ELSE [] END AS everyone
  MATCH (p:Person)
  WHERE p:Delegate OR p:CommitteeMember OR EXISTS { (p)<-[:LIAISES_WITH_MEMBER]-() }
     OR EXISTS { (p)-[:LIAISES_WITH_HOUSEHOLD]->() }
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
  // (a superset: the township rule, in Python, decides)
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
// the person's counting liaisons, both ways, in one pass
CALL (p) {
  MATCH (p)-[r:LIAISES_WITH_HOUSEHOLD|LIAISES_WITH_MEMBER|LIAISES_WITH_DELEGATE]-(x)
  WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
  WITH type(r) AS t, startNode(r) = p AS out, x,
       x.status = 'active' OR (x.inactive_since IS NOT NULL AND $as_of < x.inactive_since) AS live
  RETURN count(CASE WHEN out AND live AND t = 'LIAISES_WITH_HOUSEHOLD' THEN 1 END) AS load,
         count(CASE WHEN NOT out AND t = 'LIAISES_WITH_MEMBER' THEN 1 END) > 0 AS above,
         collect(CASE WHEN live AND NOT out AND t = 'LIAISES_WITH_MEMBER'
                           AND 'delegate' IN x.roles THEN x.id END) AS delegates,
         collect(CASE WHEN live AND NOT out AND t = 'LIAISES_WITH_DELEGATE'
                           AND 'committee_member' IN x.roles THEN x.id END) AS cms,
         collect(CASE WHEN live AND out AND t = 'LIAISES_WITH_MEMBER' THEN x.id END) AS members,
         collect(CASE WHEN live AND out AND t = 'LIAISES_WITH_DELEGATE'
                           AND 'delegate' IN x.roles THEN x.id END) AS dels_below
}
WITH p, wanted, load, above, delegates, cms, members, dels_below
WHERE wanted = 1 OR load > 0 OR above OR 'committee_member' IN p.roles OR 'delegate' IN p.roles
// one row holding every person (a result of many rows comes in batches, a round trip each), each
// as [id, roles, village_id, township_id, organization_id, wanted, load, above, delegates, cms,
// members, dels_below]; then (once, after the aggregation) the places
WITH collect([p.id, coalesce(p.roles, []), p.village_id, p.township_id, p.organization_id,
              wanted = 1, load, above, delegates, cms, members, dels_below]) AS people
RETURN people,
       COLLECT { MATCH (v:Village) RETURN [v.id, v.township_id] } AS villages,
       COLLECT { MATCH (o:Organization) RETURN [o.id, o.township_id, o.village_id] } AS organizations
