"""The `thesis` command line: the project's outermost layer, over the flows and the core."""
