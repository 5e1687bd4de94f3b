// The households below a person: reached by one to three liaisons of any kind going down
// (whatever their dates), as graphsvc.rules.impact looks for them. No row: no such person.
MATCH (p:Person {id: $person_id})
CALL (p) {
  MATCH (p)-[:LIAISES_WITH_DELEGATE|LIAISES_WITH_MEMBER|LIAISES_WITH_HOUSEHOLD*1..3]->(h:Household)
  RETURN collect(DISTINCT h.id) AS household_ids
}
RETURN household_ids
