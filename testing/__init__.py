"""Fakes and data makers shared by the tests and the benchmarks (as optuna/testing/):
`fake_worker` (the real budget loop around a sleeping objective), `upstream_files` (tiny files
in each data set's upstream format), `synthetic` (studies of known structure, no training)."""
