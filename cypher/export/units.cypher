MATCH (n:Unit) RETURN n {.*} AS rec
