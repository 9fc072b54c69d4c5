"""A local twin of cluster.yaml: the generator (config.py) and the machinery that brings it up (nodes.py)."""
