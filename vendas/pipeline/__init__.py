"""From Kafka records to per-product totals: validation rules, fast path, transforms, state."""
