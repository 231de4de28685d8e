"""Parameter sweeps on Dask: every combination of a grid of config values, times seeds.

``neurosim sweep CONFIG --grid KEY=V1,V2 --seeds N`` (:mod:`neurosim.sweep.command`)
is the same flow as ``neurosim run`` for each run, spread over a Dask cluster:

- :mod:`~neurosim.sweep.plan`: the runs, each a resolved and validated config,
  from the command line's grid or a sweep file (``sweep:``);
- :mod:`~neurosim.sweep.execute`: the runs not already done, as Dask tasks on a
  local cluster or an existing one, with a progress bar;
- :mod:`~neurosim.sweep.worker`: one run on a worker, its failure kept as data;
- :mod:`~neurosim.sweep.summary`: the numbers of a result file;
- :mod:`~neurosim.sweep.table` and :mod:`~neurosim.sweep.plot`: the table
  (CSV, Parquet) and the figure of one number against the swept value.

Files of a sweep folder::

    <folder>/sweep.csv, sweep.parquet   one row per run
    <folder>/<KEY>.png                  --plot KEY
    <folder>/runs/<digest>.h5           each run's result, named by its config's digest
"""
