"""The `aiguillage` command: thin sub-commands over the packages."""
