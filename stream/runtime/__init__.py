"""Runtime: the faust worker (app, agents' context, enrichment child, web, metrics, health).

The only package besides ``agents/`` and ``stream.tools`` that imports faust or aiokafka."""
