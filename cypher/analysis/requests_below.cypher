// Requests up the chain (graphsvc.analysis.requests): the households a request can reach
// person $person_id from on $as_of, through liaisons that count on that date: those they
// liaise with as a member, those of the members they liaise with as a delegate, and those
// of the members of the delegates they liaise with as a committee member.
// No row when there is no such person.
MATCH (p:Person {id: $person_id})
RETURN COLLECT {
  MATCH (p)-[l:LIAISES_WITH_HOUSEHOLD]->(h:Household)
  WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
  RETURN h.id AS id
  UNION
  MATCH (p)-[k:LIAISES_WITH_MEMBER]->()-[l:LIAISES_WITH_HOUSEHOLD]->(h:Household)
  WHERE (k.since IS NULL OR k.since <= $as_of) AND (k.until IS NULL OR $as_of < k.until)
    AND (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
  RETURN h.id AS id
  UNION
  MATCH (p)-[j:LIAISES_WITH_DELEGATE]->()-[k:LIAISES_WITH_MEMBER]->()
        -[l:LIAISES_WITH_HOUSEHOLD]->(h:Household)
  WHERE (j.since IS NULL OR j.since <= $as_of) AND (j.until IS NULL OR $as_of < j.until)
    AND (k.since IS NULL OR k.since <= $as_of) AND (k.until IS NULL OR $as_of < k.until)
    AND (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
  RETURN h.id AS id
} AS household_ids
