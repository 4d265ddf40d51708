"""The web UI: Jinja2 templates and static CSS/JS (no build step), served by api.py."""
