"""Data sets of the course: one module per data set, imported on demand.

Each module says in its docstring what is real, what is simulated, what is known to be
easier than real data, and where the full public data set comes from on Colab.
"""
