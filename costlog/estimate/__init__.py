"""Token estimates for what the logs do not count, and how far off they are.

The modules:
- `tokens`: tokens of a text (a fitted character heuristic, or tiktoken on request);
- `calibration`: the estimator measured on transcripts with real usage (`costlog
  calibrate`): samples, fits and the factors they give;
- `factors`: the calibrated factors from the config, applied to a session's estimated
  counts when it is recorded.
"""
