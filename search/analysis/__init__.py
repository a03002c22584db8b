"""What reads a stored study and trains nothing; no module here imports Keras.

Public names: `explain_study` (search.analysis.importance, which rests on observations, effects
and sentences), `write_report` (report),
`list_studies` and `best_trials` (summary), `compare_studies` (compare), `export_model` (export),
`serve` (dashboard), and `views`, the tables and lines the CLI prints.
"""
