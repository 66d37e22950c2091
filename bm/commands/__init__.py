"""The commands of `bm`, one module per subject; bm.cli gathers them into one app."""
