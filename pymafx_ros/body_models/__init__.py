"""SMPL-X / MANO / FLAME assets: data-directory layout, validated safe loading, layers.

- ``layout``: every file of the PyMAF-X ``data/`` directory, its keys, shapes and origin.
- ``safe_pickle`` / ``readers`` / ``validate``: reading without unrestricted unpickling
  (numpy, scipy.sparse and chumpy arrays only) and checking against the layout.
- ``assets``: ``load_assets(data_dir) -> PyMafxAssets``, the typed bundle (``AssetError`` from
  ``errors`` on any problem); ``cache`` keeps derived values keyed by content.
- ``layers``: ``BodyModelFamily`` (SMPL-X, MANO, FLAME as v1.1 inference uses them);
  ``smplx_factory`` builds the smplx layers, ``vertex_map`` the sparse SMPL-X -> SMPL map.
- ``smpl_body``: the SMPL body model whose buffers the checkpoint stores.
- ``joint_maps``: keypoint orders and index tables; ``placeholder``: the vendored fake assets.
"""
