"""Hyperparameter search: trials (grid, random, trained as vmapped groups), the search
loop with its resume, and Bayesian search (Optuna).
"""
