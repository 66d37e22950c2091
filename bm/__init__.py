"""bm: a research toolkit for benign memorization.

Anagnostidis, Bachmann, Noci & Hofmann, "The Curious Case of Benign Memorization", ICLR 2023.
Subpackages: `bm.theory` (exact decompositions, invariance, capacity), `bm.probe` (K-NN and linear
probes shared by all models), `bm.toy` (the Appendix-E toy model), `bm.labels` (label protocols).
"""

__version__ = "0.1.0"
