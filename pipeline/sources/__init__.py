"""Source clients. Each source is an interface with a live client and a recorded one."""
