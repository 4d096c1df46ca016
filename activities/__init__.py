"""Every side effect a workflow needs, as methods on classes that receive their dependencies."""
