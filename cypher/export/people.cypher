MATCH (n:Person) RETURN n {.*} AS rec
