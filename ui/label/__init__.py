"""The Label page's views: one review at a time (with its suggestion), browse, and agreement."""
