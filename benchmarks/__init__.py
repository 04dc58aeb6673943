"""Latency benchmarks (``passthrough bench``): the pipeline and each stage against baselines measured in
the same run on the same data. See :mod:`benchmarks.cli` and the README's "Benchmarks" section."""
