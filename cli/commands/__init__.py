"""One module per topic; importing a module registers its commands with the `pier` group."""
