"""Training: views, masks, losses, the pre-training methods, one loop, recipes and the run cache."""
