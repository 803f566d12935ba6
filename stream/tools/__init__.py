"""Tools: the CLI, the demo, the embedded broker, producing and tailing, JSONL helpers."""
