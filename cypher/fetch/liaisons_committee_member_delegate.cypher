// Stored liaisons_committee_member_delegate rows by key, so validation can keep the columns a bundle leaves out.
UNWIND $keys AS key
MATCH ()-[r:LIAISES_WITH_DELEGATE {key: key}]->()
RETURN r.key AS key, r.since AS since, r.until AS until
