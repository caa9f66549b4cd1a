"""The backtest: demand traces replayed through no automation, native auto scaling and this
responder (its own domain code), on a model of DynamoDB's provisioned capacity.

`python -m bench.backtest` (`make backtest`) runs the synthetic traces; `bench.fetch_trace`
adds a real table's. The model and its assumptions: `simulator.py`, `strategies.py`, and
docs/benchmarks.md.
"""
