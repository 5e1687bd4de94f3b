"""Diagram pages (pyvis): who supports whom, as self-contained, offline HTML.

``visual.views`` holds the views (each returns one HTML page as a string);
``visual.render`` makes a pyvis network safe and offline; ``visual.pages`` the
served index and login pages.
"""

from visual.views import (
    NEEDS_ID,
    VIEWS,
    chain_view,
    delegate_view,
    household_view,
    pairings_view,
    township_view,
)

__all__ = ["NEEDS_ID", "VIEWS", "chain_view", "delegate_view", "household_view", "pairings_view",
           "township_view"]
