// The graph's schema: uniqueness behind every MERGE key, and the indexes the queries use.
// Applied at start-up; every statement is idempotent (IF NOT EXISTS). Statements end with ';'.

// Every record with an id carries :Entity as well as its own label, so an id is unique
// across the whole data set (a person and a household never share one).
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT township_id IF NOT EXISTS FOR (n:Township) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT village_id IF NOT EXISTS FOR (n:Village) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT organization_id IF NOT EXISTS FOR (n:Organization) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT unit_id IF NOT EXISTS FOR (n:Unit) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT person_id IF NOT EXISTS FOR (n:Person) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT household_id IF NOT EXISTS FOR (n:Household) REQUIRE n.id IS UNIQUE;

// Relationship rows are identified by their end points (and kind), written as `key`.
CREATE CONSTRAINT liaison_cm_delegate_key IF NOT EXISTS FOR ()-[r:LIAISES_WITH_DELEGATE]-() REQUIRE r.key IS UNIQUE;
CREATE CONSTRAINT liaison_delegate_member_key IF NOT EXISTS FOR ()-[r:LIAISES_WITH_MEMBER]-() REQUIRE r.key IS UNIQUE;
CREATE CONSTRAINT liaison_member_household_key IF NOT EXISTS FOR ()-[r:LIAISES_WITH_HOUSEHOLD]-() REQUIRE r.key IS UNIQUE;
CREATE CONSTRAINT pairing_key IF NOT EXISTS FOR ()-[r:PAIRED_WITH]-() REQUIRE r.key IS UNIQUE;
CREATE CONSTRAINT support_key IF NOT EXISTS FOR ()-[r:SUPPORTS]-() REQUIRE r.key IS UNIQUE;
CREATE CONSTRAINT contact_key IF NOT EXISTS FOR ()-[r:CONTACTED]-() REQUIRE r.key IS UNIQUE;

// The data version node (meta/hold, meta/commit): one node, behind its own MERGE key.
CREATE CONSTRAINT graphsvc_meta_id IF NOT EXISTS FOR (n:GraphsvcMeta) REQUIRE n.id IS UNIQUE;

// The audit log (graphsvc.auditlog): one node per write, found by time.
CREATE CONSTRAINT audit_entry_id IF NOT EXISTS FOR (n:AuditEntry) REQUIRE n.id IS UNIQUE;
CREATE INDEX audit_entry_at IF NOT EXISTS FOR (n:AuditEntry) ON (n.at);

// The change log (meta/commit, meta/changes): one node per write, by its number and by
// the data version it made.
CREATE CONSTRAINT graphsvc_change_seq IF NOT EXISTS FOR (n:GraphsvcChange) REQUIRE n.seq IS UNIQUE;
CREATE CONSTRAINT graphsvc_change_after IF NOT EXISTS FOR (n:GraphsvcChange) REQUIRE n.after IS UNIQUE;
