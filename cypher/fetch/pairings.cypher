// Stored pairings rows by key, so validation can keep the columns a bundle leaves out.
UNWIND $keys AS key
MATCH ()-[r:PAIRED_WITH {key: key}]->()
RETURN r.key AS key, r.since AS since, r.until AS until
