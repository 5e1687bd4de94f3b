MATCH (n:Village) RETURN n {.*} AS rec
