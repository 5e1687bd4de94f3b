// Unit–village pairing on $as_of, for diagrams (Store.pairing_network's default is the
// reference): townships, villages, units and the counting pairings, each sorted by id.
// With $township_id: that township's villages, and the units paired (at any time) with one
// of them, as pairing_audit scopes them.
CALL () {
  MATCH (v:Village)
  WHERE $township_id IS NULL OR v.township_id = $township_id
  WITH v ORDER BY v.id
  RETURN collect({id: v.id, name: v.name, township_id: v.township_id,
                  needs_pairing: v.needs_pairing}) AS villages,
         collect(DISTINCT v.township_id) AS town_ids
}
CALL (town_ids) {
  // the villages' townships and $township_id itself, those that are records
  UNWIND town_ids + [$township_id] AS tid
  WITH DISTINCT tid
  MATCH (t:Entity {id: tid})
  WITH t ORDER BY t.id
  RETURN collect({id: t.id, name: t.name}) AS townships
}
CALL () {
  MATCH (u:Unit)
  WHERE $township_id IS NULL
     OR EXISTS { MATCH (u)-[:PAIRED_WITH]->(lv:Village) WHERE lv.township_id = $township_id }
  WITH u ORDER BY u.id
  RETURN collect({id: u.id, name: u.name, sector: u.sector}) AS units
}
CALL () {
  MATCH (u:Unit)-[r:PAIRED_WITH]->(v:Village)
  WHERE ($township_id IS NULL OR v.township_id = $township_id)
    AND (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
  WITH u.id AS unit_id, v.id AS village_id, r.since AS since, r.until AS until
  ORDER BY unit_id, village_id
  RETURN collect({unit_id: unit_id, village_id: village_id, since: since, until: until}) AS pairings
}
RETURN townships, villages, units, pairings
