"""Example cohort specs and a generator of large synthetic cohorts."""
