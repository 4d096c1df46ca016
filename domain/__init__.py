"""Pure rules, no I/O: the cohort spec and its validation, mentorship and cohort state.

Everything here is deterministic and safe to use from workflow code.
"""
