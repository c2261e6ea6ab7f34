"""Per-topic message catalogues, each merged explicitly into :data:`geogrid.messages_zh.ZH`."""
