"""The staff back office (FastAPI + Jinja2) and the public pages it serves."""
