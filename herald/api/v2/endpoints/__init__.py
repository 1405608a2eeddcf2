"""The API v2 endpoints, one module each; `registry.py` lists them."""
