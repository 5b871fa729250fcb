"""How the recipe's stages train: TRL trainer plumbing, batching, LoRA, reference log-probs."""
