"""Migration revisions, oldest first by their revision ids."""
