"""Analyses of finished runs, one module each (its config, its compute function returning records; nothing here
draws, and only a run's own caches are written): per-layer probing (`probing`), MFTMA geometry of deep runs and toy
cells (`geometry`), layer rewinding (`rewind`), capacity C_t and the Fig. 5 B sweep (`capacity`), and Definition
4.1's probes (`def41`). Figures of their records are in bm.figures; the commands write them."""
