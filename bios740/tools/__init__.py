"""Instructor tooling: the notebook tool, the homework harness, releases, the setup cell.

Notebooks never import from here; students' editions of the course leave it out.
"""
