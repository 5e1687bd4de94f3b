// The households and people whose status rows or audit rows a write touching the records
// $ids (people and households) can change: graphsvc.stores.incremental.affected, the same walk.
// Households: those among $ids, and those up to three liaisons below a person among them.
// People: those among $ids, those up to three liaisons above any of them, and those one
// liaison below a person among them. Liaisons of any date: ended ones are still there.
CALL () {
  UNWIND $ids AS id
  OPTIONAL MATCH (p:Person {id: id})
  OPTIONAL MATCH (h:Household {id: id})
  RETURN collect(DISTINCT p) AS people, collect(DISTINCT h) AS households
}
CALL (people) {
  UNWIND people AS p
  MATCH (p)-[:LIAISES_WITH_DELEGATE|LIAISES_WITH_MEMBER|LIAISES_WITH_HOUSEHOLD*1..3]->(h:Household)
  RETURN collect(DISTINCT h.id) AS below
}
CALL (people, households) {
  UNWIND people + households AS n
  MATCH (a:Person)-[:LIAISES_WITH_DELEGATE|LIAISES_WITH_MEMBER|LIAISES_WITH_HOUSEHOLD*1..3]->(n)
  RETURN collect(DISTINCT a.id) AS above
}
CALL (people) {
  UNWIND people AS p
  MATCH (p)-[:LIAISES_WITH_DELEGATE|LIAISES_WITH_MEMBER]->(x:Person)
  RETURN collect(DISTINCT x.id) AS next
}
RETURN [h IN households | h.id] + below AS household_ids,
       [p IN people | p.id] + above + next AS person_ids
