"""fairseq models of the plugin; importing a module registers its model and architectures."""
