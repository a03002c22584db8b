"""Running work: workers run trials until a study's shared budget or deadline ends them.

Public names: `optimize` and `join` (search.run.workers), `run_sweep` (search.run.sweep),
`Progress` (search.run.progress). The other modules are the parts a run is made of: `budget`
(the study's exact trial budget), `deadline` (a study-wide time limit), `cost` (no trial eats a
timed budget), `continuation` (the winner trained on), `restart` (a worker replaces itself when
its memory has grown), `gpus` (one worker per GPU slot), `hardware` (XLA and precision),
`heartbeat` (stale trials on every storage).
"""
