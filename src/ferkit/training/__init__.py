"""Training: recipes, batch augmentation, the Lightning module and ``train`` (needs the train extra)."""
