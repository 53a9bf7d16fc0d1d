"""SMPL-X / MANO / FLAME assets: data-directory layout, validated safe loading, layers."""
