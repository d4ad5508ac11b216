"""Inventory control with HDPO: a differentiable simulator of inventory networks, neural
(MLP, symmetry-aware, GNN) and classical policies, and a trainer using pathwise gradients."""
