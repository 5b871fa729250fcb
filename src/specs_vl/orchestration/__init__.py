"""Running the recipe's stages: the one stage runner; the pipeline and the study build on it."""
