"""cl-vs-mim: what self-supervised vision transformers learn, contrastive (MoCo v3) against masked image modelling
(SimMIM), and the CL+MIM hybrids CMAE and ConMIM, as tested functions, cached training runs and regenerated figures.

Importing the package runs the torchvision shim in `core` (so `import timm` works on any install) and registers the
project's small ViTs with timm (`cl_vs_mim.models`). The layers, lowest first: `core`, `data`, `models`, `capture`,
`checkpoints`, `pretrained`; then `analysis` and `training` (neither imports the other); `plots`; `reporting`
(profiles, tables, claims and verdicts, the report); `tools` (benchmarks, converters); `cli` on top.
"""
__version__ = "0.1.0"
from . import core as _core  # noqa: F401  (first: the torchvision shim must run before timm is imported)
from . import models as _models  # noqa: F401  (registers vit_tiny_d6_patch4_28 and the other project ViTs with timm)
