MATCH (n:Organization) RETURN n {.*} AS rec
