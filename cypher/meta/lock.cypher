// Inside a small write's transaction, first: the write locks of the records it writes, links
// or counts ($ids, sorted), taken by setting and removing a property (the Cypher manual's way
// to lock a node), and held until the commit. Two writes of one record, or of one household's
// contacts, run one after the other; writes of different records run side by side until
// meta/commit. Returns the ids found (a new record has nothing to lock yet: the write then
// takes meta/hold as well), the dates whose county numbers every write records its change of
// (meta/count_date), and the number of the last write that took no record locks (a large
// import: meta/commit drops this write's numbers if one committed meanwhile).
UNWIND $ids AS id
MATCH (n:Entity {id: id})
SET n._lock = true
REMOVE n._lock
WITH collect(n.id) AS found
OPTIONAL MATCH (m:GraphsvcMeta {id: 'data'})
RETURN found, coalesce(m.tally_dates, []) AS tally_dates, coalesce(m.unlocked, 0) AS unlocked
