"""The choices the report's figures offer, apart from the figures so that ``lth-report --help`` needs no
matplotlib."""

BANDS = {"std": "±1 std over seeds", "sem": "±1 standard error of the mean over seeds"}
AXES = ("pruned", "density")
