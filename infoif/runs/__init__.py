"""Runs kept and run: the store on disk, the training service and its worker processes, sweeps, Dask clusters, fair sharing."""
