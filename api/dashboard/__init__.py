"""The web dashboard: Danish pages for the people who look rather than query.

Served by caseledger itself under ``/dashboard`` (server-rendered Jinja2 templates, inline SVG
charts, a little plain JavaScript; nothing loaded from elsewhere). ``install(app)`` adds it to the
API; its routes stay out of the OpenAPI document.
"""

from api.dashboard.pages import install

__all__ = ["install"]
