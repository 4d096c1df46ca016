"""Pure rules of one mentoring relationship: state, evolve(), decisions, schedule."""
