"""Plain helpers every area uses: cleaning untrusted values, prefetching, GC tuning, cache markers."""
