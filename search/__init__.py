"""The search engine, one package per concern:

- the core, here: `config` (what to search), `registry` (samplers, pruners, evaluators),
  `vocabulary` (every trial and study attribute name, and which trials count), `trials` (reading
  a study's trials), `study` (create or resume a study, its stored config, seeding), `proposals`
  (starting points, greedy steps, duplicates), `objective` (one trial), `training` (build and
  fit a model), `pruning` (the pruning rules), `callbacks` (the Keras callbacks of a fit),
  `artifacts` (saved models), `evaluate` (a trial's model on the test set), `quiet`
  (TensorFlow's logging);
- `search.data`: the data sources behind one registry;
- `search.run`: running work: workers and their shared budget, deadline, cost limits, the
  winner trained on, restarts, GPU slots, hardware settings, heartbeats, progress, sweeps;
- `search.analysis`: what reads a stored study, never training: importance, report, summary,
  compare, export, the dashboard, and the views the CLI prints.
"""
