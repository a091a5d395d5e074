"""``ferkit batch``: analyse whole archives of photos and videos into Parquet shards, resumably, on local worker
processes or a Ray cluster (the ``ray`` extra)."""
