MATCH (n:Household) RETURN n {.*} AS rec
