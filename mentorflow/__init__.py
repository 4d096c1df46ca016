"""mentorflow: the composition root and every way in (settings, logging, CLI, stack, services)."""
