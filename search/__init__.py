"""The search engine: config, datasets, study, objective, workers, and what reads results."""
