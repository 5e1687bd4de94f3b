// Villages that need a unit and have none, and units with no pairing, on $as_of
// (graphsvc.rules.pairing_audit). With $township_id: that township's villages, and the units
// paired (at any time) with one of them.
CALL () {
  MATCH (v:Village)
  WHERE ($township_id IS NULL OR v.township_id = $township_id)
    AND v.needs_pairing
    AND NOT EXISTS {
      MATCH ()-[r:PAIRED_WITH]->(v)
      WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
    }
  WITH v ORDER BY v.id
  RETURN collect(v.id) AS unpaired_villages
}
CALL () {
  MATCH (u:Unit)
  WHERE ($township_id IS NULL
         OR EXISTS { MATCH (u)-[:PAIRED_WITH]->(lv:Village) WHERE lv.township_id = $township_id })
    AND NOT EXISTS {
      MATCH (u)-[r:PAIRED_WITH]->()
      WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
    }
  WITH u ORDER BY u.id
  RETURN collect(u.id) AS idle_units
}
RETURN unpaired_villages, idle_units
