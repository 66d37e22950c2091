"""The Appendix-E toy model: its data (`data`), batched model (`model`), trainer (`train`), the n x B grid runner
(`grid`), its config (`config`, torch-free) and the grid read as results (`summary`)."""
