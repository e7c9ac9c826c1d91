"""`lth-report`: figures, summary tables and mask statistics drawn from lottery run folders alone.

Reads only what the lottery loop writes (config.json, results.csv, metrics.json, mask.safetensors);
imports no trainer. matplotlib is imported here only, with the Agg backend.
"""
