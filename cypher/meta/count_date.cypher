// Before the county's numbers on $day are counted, in the same write transaction: $day joins
// the dates every write records its change of the numbers on (the last $keep dates), and the
// data version node's write lock is held until the counting commits, so that no write commits
// meanwhile and the numbers are those of exactly the version returned. No row before the first
// write.
MATCH (m:GraphsvcMeta {id: 'data'})
SET m.tally_dates = CASE WHEN $day IN coalesce(m.tally_dates, []) THEN m.tally_dates
                    ELSE (coalesce(m.tally_dates, []) + $day)[-$keep..] END
RETURN m.version AS version
