"""The web interface at `/`: server-rendered pages on the API's own models and rules (herald/web/README-DEV.md)."""
