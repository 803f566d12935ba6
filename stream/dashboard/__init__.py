"""The reference dashboard: a web page fed only by the public output topics.

``state`` and ``highlight`` are pure (records in, views out); ``server`` is the process that
reads the topics and serves the page (``newsstream dashboard``); ``static/`` is the page.
"""
