"""Reporting: profiles, the figures registry, claims and their verdicts, and the report."""
