"""Running codemods over a tree: discovery, settings, the per-file pipeline, the parallel runner,
the result cache and replay, templates, and safe writes."""
