"""celab's ground floor, the shared regret-tracking loop: what both labs stand on.

Random streams (:mod:`tracking.rng`), the kernel decorator (:mod:`tracking.jit`), checkpoint
grids, validation helpers, the memory guard, agent specifications, the batched runner with
stop and resume (:mod:`tracking.runner`) and its executors, here or on Dask
(:mod:`tracking.executors`), results and their files (:mod:`tracking.results`) and
statistics of curves (:mod:`tracking.stats`), the record and registry of settings the labs
declare (:mod:`tracking.settings`) and lazy package attributes (:mod:`tracking.lazy`). It
imports no lab and nothing above the labs; importing it has no side effects.
"""
